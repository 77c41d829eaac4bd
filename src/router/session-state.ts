// Finds statements that leave state in a server session, so transaction pooling must pin the client.
import { parseSql, statementKind, type StatementNode } from '../sql/parser.js';
import { findInTree, funcCallName } from './ast-walk.js';

/**
 * Cheap text test run on every statement: only text containing one of these words can create session
 * state, so only that text is handed to the parser. A false positive costs one cached parse.
 */
const mayHoldSessionState = /listen|prepare|hold|temp|advisory_lock|advisory_unlock/i;

const sessionFunctions = new Set([
  'pg_advisory_lock',
  'pg_advisory_lock_shared',
  'pg_try_advisory_lock',
  'pg_try_advisory_lock_shared',
]);

/** Why this SQL needs the same server connection for the rest of the session, or null. */
export function sessionPinReason(sql: string): string | null {
  if (!mayHoldSessionState.test(sql)) return null;
  const parsed = parseSql(sql);
  if (!parsed.ok) return null;
  for (const stmt of parsed.statements) {
    const reason = statementPinReason(stmt);
    if (reason) return reason;
  }
  return null;
}

/** Why one parsed statement pins the client, or null; the classifier records it as StatementInfo.pin. */
export function statementPinReason(stmt: StatementNode): string | null {
  const kind = statementKind(stmt);
  const body = stmt[kind] as Record<string, unknown>;
  switch (kind) {
    case 'ListenStmt':
      return 'LISTEN';
    case 'PrepareStmt':
      return 'PREPARE';
    case 'DeclareCursorStmt':
      // CURSOR_OPT_HOLD = 0x20: the cursor outlives its transaction.
      return ((body.options as number) & 0x20) !== 0 ? 'DECLARE ... WITH HOLD' : null;
    case 'CreateStmt':
    case 'CreateTableAsStmt':
    case 'ViewStmt':
    case 'CreateSeqStmt':
      return JSON.stringify(body).includes('"relpersistence":"t"') ? 'temporary table' : null;
  }
  return callsAny(body, sessionFunctions) ? 'session advisory lock' : null;
}

/** True when a FuncCall to one of the names occurs anywhere in the tree. */
function callsAny(node: unknown, names: Set<string>): boolean {
  return findInTree(node, (key, value) => key === 'FuncCall' && names.has(funcCallName(value) ?? ''));
}
