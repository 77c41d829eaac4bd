// Finds statements that leave state in a server session, so transaction pooling must pin the client.
import { parseSql, statementKind, type StatementNode } from '../sql/parser.js';
import { findInTree, funcCallName } from './ast-walk.js';

/**
 * Cheap text test run on every statement: only text containing one of these words can create session
 * state, so only that text is handed to the parser. A false positive costs one cached parse.
 * Plain SETs are not here: the session replays them on whichever server connection it gets.
 */
const mayHoldSessionState = /listen|prepare|hold|temp|advisory_lock|advisory_unlock|set_config/i;

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
    const reason = statementPinReason(stmt);
    if (reason) return reason;
  }
  return null;
}

/** Why one parsed statement pins the client, or null. */
export function statementPinReason(stmt: StatementNode): string | null {
  const kind = statementKind(stmt);
  const body = stmt[kind] as Record<string, unknown>;
  if (kind === 'ListenStmt') return 'LISTEN';
  if (kind === 'PrepareStmt') return 'PREPARE';
  // CURSOR_OPT_HOLD = 0x20: the cursor outlives its transaction.
  if (kind === 'DeclareCursorStmt' && ((body.options as number) & 0x20) !== 0) return 'DECLARE ... WITH HOLD';
  // Any relation created TEMP, also through SELECT INTO, CREATE TABLE AS, EXPLAIN ANALYZE or pg_temp.
  const temp = findInTree(
    stmt,
    (key, value) =>
      (key === 'relpersistence' && value === 't') || (key === 'schemaname' && value === 'pg_temp'),
  );
  if (temp) return 'temporary table';
  if (
    findInTree(
      stmt,
      (key, value) => key === 'FuncCall' && sessionLockFunctions.has(funcCallName(value) ?? ''),
    )
  ) {
    return 'session advisory lock';
  }
  const sessionSetConfig = findInTree(
    stmt,
    (key, value) =>
      key === 'FuncCall' &&
      funcCallName(value) === 'set_config' &&
      !isTrueConstant((value as { args?: unknown[] }).args?.[2]),
  );
  return sessionSetConfig ? 'set_config for the session' : null;
}

/** A literal `true` (set_config's is_local): anything else may set the value for the whole session. */
function isTrueConstant(node: unknown): boolean {
  const konst = (node as { A_Const?: { boolval?: { boolval?: boolean } } } | undefined)?.A_Const;
  if (konst?.boolval?.boolval === true) return true;
  const cast = (node as { TypeCast?: { arg?: unknown } } | undefined)?.TypeCast;
  const sval = (cast?.arg as { A_Const?: { sval?: { sval?: string } } } | undefined)?.A_Const?.sval?.sval;
  return sval !== undefined && ['t', 'true', 'on', 'yes', '1'].includes(sval.toLowerCase());
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

/** The statement a lone `DEALLOCATE [PREPARE] name` drops; null for DEALLOCATE ALL or any other text. */
export function deallocateName(sql: string): string | null {
  const parsed = parseSql(sql);
  if (!parsed.ok || parsed.statements.length !== 1) return null;
  const node = parsed.statements[0].DeallocateStmt as { name?: string } | undefined;
  return node?.name ?? null;
}

/** Statement kinds after which a prepared statement's result type may differ (a column, type or view changed). */
const resultTypeChanges = new Set([
  'AlterTableStmt',
  'DropStmt',
  'ViewStmt',
  'RenameStmt',
  'AlterEnumStmt',
  'AlterDomainStmt',
  'AlterTypeStmt',
  'CompositeTypeStmt',
  'CreateEnumStmt',
  'CreateDomainStmt',
  'RuleStmt',
  'CreateStmt',
  'CreateTableAsStmt',
  'AlterObjectSchemaStmt',
]);

/** Whether a DDL text may change what prepared statements return; true when it cannot be parsed. */
export function changesResultTypes(sql: string): boolean {
  const parsed = parseSql(sql);
  if (!parsed.ok) return true;
  return parsed.statements.some((stmt) => Object.keys(stmt).some((kind) => resultTypeChanges.has(kind)));
}
