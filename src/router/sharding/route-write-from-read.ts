// Writes whose rows or WHERE values need a read across shards: the coordinator reads, the proxy's own
// distributed write writes (postgres_fdw has no two-phase commit, so the coordinator never writes).
import { findInTree } from '../ast-walk.js';
import { nodeKind, type Node } from './ast-values.js';
import type { TablePlacement } from './shard-map.js';
import { unsupported, type RouteContext, type ShardRoute } from './route-types.js';
import { antiJoin, innerNames, namesOuter, withMemberships } from './semijoin.js';
import type { Refusal } from './write-from-read.js';

const writeKinds = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt']);

/** A refusal for what the coordinator may not do for a write (it only reads), or null. */
function readOnlyRefusal(query: unknown): ShardRoute | null {
  const writes = findInTree(query, (key) => writeKinds.has(key));
  if (writes)
    return unsupported(
      'a write whose rows need a read across shards may not write in its query (data-modifying WITH)',
      'run the inner write as a statement of its own',
    );
  if (findInTree(query, (key) => key === 'lockingClause'))
    return unsupported(
      'FOR UPDATE/SHARE in the query of a write across shards is not supported',
      'the coordinator reads without locking the shards’ rows; lock them in a statement of its own',
    );
  return null;
}

/** The INSERT … SELECT route, or its refusal (ON CONFLICT DO UPDATE, a RETURNING that reads, a writing query). */
export function insertSelectRoute(
  n: Node,
  select: Node,
  target: { table: string; placement: TablePlacement; keyIndex: number },
  ctx: RouteContext,
  refusal: Refusal,
): ShardRoute {
  const { table, placement, keyIndex } = target;
  const conflict = n.onConflictClause as Node | undefined;
  if (conflict?.action === 'ONCONFLICT_UPDATE') {
    return unsupported(
      `INSERT … SELECT … ON CONFLICT DO UPDATE into sharded table "${table}" is not supported`,
      'the rows are inserted in batches, and a key met again in a later batch would be updated where PostgreSQL raises an error; use ON CONFLICT DO NOTHING, or UPDATE and INSERT separately',
    );
  }
  if (findInTree([n.returningList, n.returningClause], (key) => key === 'SubLink')) {
    return unsupported(
      `RETURNING with a subquery in INSERT … SELECT into sharded table "${table}" is not supported`,
      'return the inserted columns and read the rest in a statement of its own',
    );
  }
  const readOnly = readOnlyRefusal([select, n.withClause]);
  if (readOnly) return readOnly;
  const keyType = ctx.meta(table)?.keyType;
  if (!keyType) return unsupported(`cannot tell the type of the shard key of "${table}"`);
  const body = { ...select };
  if (n.withClause) {
    if (body.withClause)
      return unsupported('INSERT with WITH clauses both before it and in its SELECT is not supported');
    body.withClause = n.withClause;
  }
  const insert = { ...n, selectStmt: undefined, withClause: undefined };
  return {
    kind: 'write-from-read',
    write: {
      kind: 'insert-select',
      table,
      placement,
      keyType,
      keyIndex,
      select: { SelectStmt: body },
      insert,
    },
    refusal,
  };
}

/** Sublink kinds whose value can be written in as a constant (row comparisons and multi-column IN cannot). */
const constantKinds = new Set([
  'EXISTS_SUBLINK',
  'EXPR_SUBLINK',
  'ANY_SUBLINK',
  'ALL_SUBLINK',
  'ARRAY_SUBLINK',
]);

/** The sublinks of the statement's own level (WHERE, SET values), not those nested in other sublinks. */
function ownSublinks(n: Node): Node[] {
  const out: Node[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const sub = (node as Node).SubLink as Node | undefined;
    if (sub) return void out.push(sub);
    for (const v of Object.values(node)) visit(v);
  };
  visit([n.whereClause, n.targetList]);
  return out;
}

/** What the statement routes as once its sublinks are constants: a placeholder NULL for each. */
function withPlaceholders(stmt: Node, sublinks: Node[]): Node {
  const swap = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(swap);
    if (node === null || typeof node !== 'object') return node;
    const sub = (node as Node).SubLink as Node | undefined;
    if (sub && sublinks.includes(sub)) return placeholderOf(sub, { A_Const: { isnull: true } });
    const out: Node = {};
    for (const [k, v] of Object.entries(node)) out[k] = swap(v);
    return out;
  };
  return swap(stmt) as Node;
}

/** The expression standing for a sublink once its value (a constant expression) is known. */
export function placeholderOf(sub: Node, value: Node): Node {
  const type = sub.subLinkType as string;
  if (type !== 'ANY_SUBLINK' && type !== 'ALL_SUBLINK') return value;
  const name = (sub.operName as Node[] | undefined) ?? [{ String: { sval: '=' } }];
  const kind = type === 'ANY_SUBLINK' ? 'AEXPR_OP_ANY' : 'AEXPR_OP_ALL';
  const test = { A_Expr: { kind, name, lexpr: sub.testexpr, rexpr: value } };
  if (!sub[antiJoin]) return test;
  const isNull = { NullTest: { arg: sub.testexpr, nulltesttype: 'IS_NULL' } };
  const not = { BoolExpr: { boolop: 'NOT_EXPR', args: [test] } };
  return { BoolExpr: { boolop: 'OR_EXPR', args: [isNull, not] } };
}

/**
 * UPDATE or DELETE refused because its subqueries read across shards: when each such subquery is
 * uncorrelated and of a kind whose value is a constant, the coordinator evaluates it and the write runs
 * with that constant, routed as any write (by the shard key when the constant restricts it). Else `refusal`.
 */
export function subqueryWriteRoute(
  stmt: Node,
  table: string,
  ctx: RouteContext,
  refusal: Refusal,
  reroute: (stmt: Node, ctx: RouteContext) => ShardRoute,
): ShardRoute {
  const [kind, original] = nodeKind(stmt)!;
  const n = withMemberships(original);
  const write = n === original ? stmt : { [kind]: n };
  const sublinks = ownSublinks(n);
  const refused = unsupported(refusal.message, refusal.hint);
  if (sublinks.length === 0) return refused;
  for (const sub of sublinks) {
    if (!constantKinds.has(sub.subLinkType as string) || nodeKind(sub.testexpr)?.[0] === 'RowExpr')
      return refused;
    if (namesOuter(sub.subselect, innerNames(sub.subselect)))
      return unsupported(
        `${refusal.message}: a subquery that depends on the row written cannot be evaluated once for the whole write`,
        refusal.hint,
      );
  }
  const readOnly = readOnlyRefusal(sublinks);
  if (readOnly) return readOnly;
  const after = reroute(withPlaceholders(write, sublinks), ctx);
  if (after.kind === 'unsupported') return after;
  // Its route with placeholders would carry them: a write needing a second read across shards is refused.
  if (after.kind === 'write-from-read') return refused;
  return {
    kind: 'write-from-read',
    write: { kind: 'subquery-values', table, stmt: write, sublinks },
    refusal,
  };
}
