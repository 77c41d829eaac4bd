// Finds statements that leave state in a server session, so transaction pooling must pin the client.
import { parseSql, statementKind, type StatementNode } from '../sql/parser.js';

/**
 * Cheap text test run on every statement: only text containing one of these words can create session
 * state, so only that text is handed to the parser. A false positive costs one cached parse.
 */
const mayHoldSessionState =
  /listen|prepare|hold|temp|advisory_lock|advisory_unlock|set_config|(^|;)\s*set\s/i;

/** Settings the server reports by ParameterStatus: their changes follow the client without pinning. */
const reported = new Set([
  'application_name',
  'client_encoding',
  'datestyle',
  'intervalstyle',
  'timezone',
  'standard_conforming_strings',
]);

const sessionLockFunctions = new Set([
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
    const reason = pinReasonOf(stmt);
    if (reason) return reason;
  }
  return null;
}

function pinReasonOf(stmt: StatementNode): string | null {
  const kind = statementKind(stmt);
  const body = stmt[kind] as Record<string, unknown>;
  if (kind === 'ListenStmt') return 'LISTEN';
  if (kind === 'PrepareStmt') return 'PREPARE';
  // CURSOR_OPT_HOLD = 0x20: the cursor outlives its transaction.
  if (kind === 'DeclareCursorStmt' && ((body.options as number) & 0x20) !== 0) return 'DECLARE ... WITH HOLD';
  if (kind === 'VariableSetStmt' && !body.is_local) {
    const name = String(body.name ?? '').toLowerCase();
    if (!reported.has(name) && name !== 'transaction') return `SET ${name || 'session state'}`;
  }
  let reason: string | null = null;
  walk(stmt, (node) => {
    if (reason) return;
    // Any relation created TEMP, also through SELECT INTO, CREATE TABLE AS, EXPLAIN ANALYZE or pg_temp.
    if (node.relpersistence === 't' || node.schemaname === 'pg_temp') reason = 'temporary table';
    const call = node.FuncCall as
      { funcname?: { String?: { sval?: string } }[]; args?: unknown[] } | undefined;
    const name = call?.funcname?.at(-1)?.String?.sval?.toLowerCase();
    if (name && sessionLockFunctions.has(name)) reason = 'session advisory lock';
    if (name === 'set_config' && !isTrueConstant(call?.args?.[2])) reason = 'set_config for the session';
  });
  return reason;
}

/** A literal `true` (set_config's is_local): anything else may set the value for the whole session. */
function isTrueConstant(node: unknown): boolean {
  const konst = (node as { A_Const?: { boolval?: { boolval?: boolean } } } | undefined)?.A_Const;
  if (konst?.boolval?.boolval === true) return true;
  const cast = (node as { TypeCast?: { arg?: unknown } } | undefined)?.TypeCast;
  const sval = (cast?.arg as { A_Const?: { sval?: { sval?: string } } } | undefined)?.A_Const?.sval?.sval;
  return sval !== undefined && ['t', 'true', 'on', 'yes', '1'].includes(sval.toLowerCase());
}

function walk(node: unknown, visit: (obj: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, visit);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  visit(obj);
  for (const v of Object.values(obj)) walk(v, visit);
}

const mayReset = /deallocate|discard/i;

/** `deallocate`: every prepared statement of the server session is gone; `discard`: all session state too. */
export function sessionResetKind(sql: string): 'deallocate' | 'discard' | null {
  if (!mayReset.test(sql)) return null;
  const parsed = parseSql(sql);
  if (!parsed.ok) return null;
  let kind: 'deallocate' | 'discard' | null = null;
  for (const stmt of parsed.statements) {
    const node = stmt.DeallocateStmt as { name?: string } | undefined;
    if (node && !node.name) kind ??= 'deallocate';
    const discard = stmt.DiscardStmt as { target?: string } | undefined;
    if (discard?.target === 'DISCARD_ALL') kind = 'discard';
  }
  return kind;
}
