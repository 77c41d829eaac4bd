// Primary or replica for one parsed statement, by PostgreSQL's semantics of each statement kind.
import { statementKind, type StatementNode } from '../sql/parser.js';
import { findInTree, funcCallName } from './ast-walk.js';
import { statementPinReason } from './session-state.js';
import { classifyVariableSet } from './session-set.js';
import { isSideEffectFunction } from './side-effect-functions.js';
import { classifyTransaction } from './transaction-control.js';
import { read, write, type StatementVerdict } from './statement-verdict.js';

export interface StatementContext {
  /** The whole client text and this statement's position in it (for replaying SETs verbatim). */
  sql: string;
  index: number;
  /** Configured side-effect functions, normalized by normalizeFunctionNames. */
  functions: ReadonlySet<string>;
}

/**
 * Statements that run on the primary although they modify no table: LISTEN/NOTIFY and LOCK only mean
 * something there; PREPARE, EXECUTE and DEALLOCATE must meet on one server and EXECUTE's body is
 * unknown here; LOAD and CHECKPOINT act on the server the operator means, the primary.
 */
const writeReasons = new Map(
  Object.entries({
    InsertStmt: 'insert',
    UpdateStmt: 'update',
    DeleteStmt: 'delete',
    MergeStmt: 'merge',
    CallStmt: 'call',
    DoStmt: 'do',
    LockStmt: 'lock',
    ListenStmt: 'listen',
    UnlistenStmt: 'unlisten',
    NotifyStmt: 'notify',
    PrepareStmt: 'prepare',
    ExecuteStmt: 'execute',
    DeallocateStmt: 'deallocate',
    LoadStmt: 'load',
    CheckPointStmt: 'checkpoint',
  }),
);

/** Statements that only read or touch the client's own session (cursors, SHOW, DISCARD). */
const readReasons = new Map(
  Object.entries({
    VariableShowStmt: 'show',
    ClosePortalStmt: 'close',
    ConstraintsSetStmt: 'set-constraints',
  }),
);

export function classifyStatement(node: StatementNode, ctx: StatementContext): StatementVerdict {
  const verdict = classifyKind(node, ctx);
  const pin = statementPinReason(node);
  return pin ? { ...verdict, pin } : verdict;
}

function classifyKind(node: StatementNode, ctx: StatementContext): StatementVerdict {
  const kind = statementKind(node);
  const body = node[kind] as Record<string, unknown>;
  const writeReason = writeReasons.get(kind);
  if (writeReason) return write(writeReason);
  const readReason = readReasons.get(kind);
  if (readReason) return read(readReason);
  switch (kind) {
    case 'SelectStmt':
      return classifySelect(body, ctx.functions);
    case 'ExplainStmt':
      return classifyExplain(body, ctx);
    case 'CopyStmt':
      return classifyCopy(body, ctx);
    case 'DeclareCursorStmt':
      return inner(body.query, ctx) ?? read('declare-cursor');
    case 'FetchStmt':
      return read(body.ismove ? 'move' : 'fetch');
    case 'DiscardStmt':
      return body.target === 'DISCARD_ALL'
        ? { ...read('discard'), resetAll: true, routeOverride: 'auto' }
        : read('discard');
    case 'TransactionStmt':
      return classifyTransaction(body);
    case 'VariableSetStmt':
      return classifyVariableSet(body, ctx.sql, ctx.index);
    default:
      // CREATE/ALTER/DROP, GRANT, TRUNCATE, VACUUM, REINDEX, REFRESH ... and any kind this list does not know.
      return write('ddl');
  }
}

/** The verdict of a statement nested in EXPLAIN, COPY or DECLARE when it needs the primary, else undefined. */
function inner(query: unknown, ctx: StatementContext): StatementVerdict | undefined {
  if (!query || typeof query !== 'object') return undefined;
  const verdict = classifyKind(query as StatementNode, ctx);
  return verdict.access === 'write' ? verdict : undefined;
}

const dataModifying = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/** One walk over the tree: DML in a WITH, INTO, FOR UPDATE/SHARE in any subquery, side-effect calls anywhere. */
function classifySelect(body: Record<string, unknown>, functions: ReadonlySet<string>): StatementVerdict {
  let modifies = false;
  let into = false;
  let locks = false;
  let sideEffect: string | undefined;
  findInTree(body, (key, value) => {
    if (dataModifying.has(key)) modifies = true;
    else if (key === 'intoClause') into = value != null;
    else if (key === 'lockingClause') locks ||= Array.isArray(value) && value.length > 0;
    else if (key === 'FuncCall' && !sideEffect) {
      const name = funcCallName(value);
      if (name && isSideEffectFunction(name, functions)) sideEffect = name;
    }
    return false;
  });
  if (modifies) return write('writable-cte');
  if (into) return write('select-into');
  if (locks) return write('locking-select');
  if (sideEffect) return write(`side-effect-function:${sideEffect}`);
  return read('read-only-select');
}

type Option = {
  DefElem?: {
    defname?: string;
    arg?: { Integer?: { ival?: number }; String?: { sval?: string }; Boolean?: { boolval?: boolean } };
  };
};

/** Plain EXPLAIN runs nothing; EXPLAIN ANALYZE runs its statement, so a write needs the primary. */
function classifyExplain(body: Record<string, unknown>, ctx: StatementContext): StatementVerdict {
  const analyze = (body.options as Option[] | undefined)?.find(
    (o) => o.DefElem?.defname === 'analyze',
  )?.DefElem;
  // The prepared statement lives where PREPARE ran, on the primary, so even a plain EXPLAIN EXECUTE goes there.
  const query = body.query as StatementNode | undefined;
  if (query && statementKind(query) === 'ExecuteStmt') return write('execute');
  if (!analyze) return read('explain');
  // EXPLAIN (ANALYZE 0) and (ANALYZE 'off') differ only in a literal: keep such texts out of the shape cache.
  const literalSensitive = analyze.arg !== undefined;
  if (!isTrue(analyze.arg)) return { ...read('explain'), literalSensitive };
  const verdict = inner(query, ctx);
  if (!verdict) return { ...read('explain-analyze'), literalSensitive };
  return {
    ...write('explain-analyze-write'),
    literalSensitive: literalSensitive || verdict.literalSensitive,
  };
}

/** PostgreSQL's defGetBoolean: no argument, 1, true or on; anything it would reject counts as true here. */
function isTrue(arg: NonNullable<Option['DefElem']>['arg']): boolean {
  if (!arg) return true;
  if (arg.Integer) return (arg.Integer.ival ?? 0) !== 0;
  if (arg.Boolean) return arg.Boolean.boolval === true;
  const word = arg.String?.sval?.toLowerCase();
  return word !== 'false' && word !== 'off';
}

/**
 * COPY FROM writes. COPY TO STDOUT reads, unless its query writes. COPY TO a server file or program
 * is sent to the primary so the file lands on a host the operator can predict.
 */
function classifyCopy(body: Record<string, unknown>, ctx: StatementContext): StatementVerdict {
  if (body.is_from) return write('copy-from');
  const verdict = inner(body.query, ctx);
  if (verdict) return verdict;
  if (body.filename !== undefined || body.is_program) return write('copy-to-server-file');
  return read('copy-to');
}
