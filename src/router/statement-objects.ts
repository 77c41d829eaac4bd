// What a statement touches: the tables it reads and writes and the functions it calls, for plugins and caches.
import { statementKind, type StatementNode } from '../sql/parser.js';
import { findInTree } from './ast-walk.js';

export interface StatementObjects {
  /** Relations named anywhere, lower-case as written (`t` or `s.t`); CTE names left out. */
  readonly tables: readonly string[];
  /** Relations the statement may modify; `*` when that cannot be known (DDL, CALL, DO, side-effect functions). */
  readonly writes: readonly string[];
  /** Called functions, lower-case as written (`f` or `s.f`). */
  readonly functions: readonly string[];
  /** Calls something whose result changes from call to call, so its result must not be reused. */
  readonly volatile: boolean;
}

/**
 * Functions whose value changes between calls or with the session. now() and friends are STABLE in
 * PostgreSQL, but a cached result would freeze them, so they count here.
 */
const volatileFunctions = new Set([
  'now',
  'random',
  'random_normal',
  'setseed',
  'clock_timestamp',
  'statement_timestamp',
  'transaction_timestamp',
  'timeofday',
  'gen_random_uuid',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'nextval',
  'currval',
  'lastval',
  'setval',
  'txid_current',
  'pg_current_xact_id',
  'pg_backend_pid',
  'pg_sleep',
  'current_setting',
  'pg_current_wal_lsn',
  'pg_last_wal_replay_lsn',
  'inet_client_addr',
  'inet_client_port',
]);

const dmlTargets: Record<string, string> = {
  InsertStmt: 'relation',
  UpdateStmt: 'relation',
  DeleteStmt: 'relation',
  MergeStmt: 'relation',
};

/** Statement kinds that change nothing a cached result depends on. */
const harmless = new Set([
  'SelectStmt',
  'ExplainStmt',
  'VariableSetStmt',
  'VariableShowStmt',
  'TransactionStmt',
  'DeclareCursorStmt',
  'FetchStmt',
  'ClosePortalStmt',
  'DiscardStmt',
  'PrepareStmt',
  'DeallocateStmt',
  'ListenStmt',
  'UnlistenStmt',
  'NotifyStmt',
  'LockStmt',
  'ConstraintsSetStmt',
  'CheckPointStmt',
  'LoadStmt',
]);

type RangeVar = { schemaname?: string; relname?: string };

function relationName(rv: RangeVar): string | undefined {
  if (!rv.relname) return undefined;
  return (rv.schemaname ? `${rv.schemaname}.${rv.relname}` : rv.relname).toLowerCase();
}

function functionName(call: unknown): string | undefined {
  const names = (call as { funcname?: { String?: { sval?: string } }[] } | undefined)?.funcname;
  if (!names) return undefined;
  return names
    .map((n) => n.String?.sval ?? '')
    .join('.')
    .toLowerCase();
}

/** One walk over every statement of a text. */
export function statementObjects(nodes: readonly StatementNode[]): StatementObjects {
  const tables = new Set<string>();
  const writes = new Set<string>();
  const functions = new Set<string>();
  const ctes = new Set<string>();
  let volatile = false;
  for (const node of nodes) {
    const kind = statementKind(node);
    const body = node[kind] as Record<string, unknown>;
    findInTree(node, (key, value) => {
      // A relation appears as a `RangeVar` node in FROM, and as a bare `relation` field in DML, COPY and DDL.
      if (key === 'RangeVar' || (key === 'relation' && value !== null && typeof value === 'object')) {
        const name = relationName(value as RangeVar);
        if (name) tables.add(name);
      } else if (key === 'FuncCall') {
        const name = functionName(value);
        if (name) {
          functions.add(name);
          if (volatileFunctions.has(name.split('.').at(-1)!)) volatile = true;
        }
      } else if (key === 'SQLValueFunction') {
        volatile = true;
      } else if (key === 'CommonTableExpr') {
        const name = (value as { ctename?: string }).ctename;
        if (name) ctes.add(name.toLowerCase());
      } else if (dmlTargets[key]) {
        const target = relationName((value as { relation?: RangeVar }).relation ?? {});
        if (target) writes.add(target);
      }
      return false;
    });
    if (kind === 'CopyStmt' && body.is_from) {
      const target = relationName((body.relation as RangeVar | undefined) ?? {});
      writes.add(target ?? '*');
    } else if (!harmless.has(kind) && !dmlTargets[kind] && kind !== 'CopyStmt') {
      // DDL, TRUNCATE, CALL, DO, VACUUM ...: what changes is not worth guessing.
      writes.add('*');
    }
  }
  for (const cte of ctes) tables.delete(cte);
  return { tables: [...tables], writes: [...writes], functions: [...functions], volatile };
}
