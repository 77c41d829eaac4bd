// UPDATE … FROM and DELETE … USING other sharded tables not co-located with the target: the coordinator reads
// the rows of each such table that can join a target row, and the write runs on the target's shards with
// those rows in place of the table (`unnest` of bound arrays), so every expression is PostgreSQL's own there.
import { findInTree } from '../ast-walk.js';
import { nodeKind, type Node } from './ast-values.js';
import { unsupported, type RouteContext, type ShardRoute } from './route-types.js';
import type { JoinedTable, Refusal } from './write-from-read.js';

const refusedShape = (refusal: Refusal, why: string, hint: string): ShardRoute =>
  unsupported(`${refusal.message}: ${why}`, hint);

/** The FROM (UPDATE) or USING (DELETE) list of a write. */
export function joinedList(kind: string, n: Node): Node[] {
  return ((kind === 'UpdateStmt' ? n.fromClause : n.usingClause) as Node[] | undefined) ?? [];
}

/** The name a FROM item's columns are qualified with: its alias, else its table name (as written). */
const qualifierOf = (rv: Node): string =>
  ((rv.alias as Node | undefined)?.aliasname as string | undefined) ?? String(rv.relname);

const tableOf = (rv: Node): string => String(rv.relname).toLowerCase();

const conjuncts = (e: unknown): unknown[] => {
  const b = (e as Node | undefined)?.BoolExpr as Node | undefined;
  if (b?.boolop === 'AND_EXPR') return (b.args as unknown[]).flatMap(conjuncts);
  return e ? [e] : [];
};

/** The write's own expressions: SET values, WHERE, RETURNING (a list, or a clause holding one). */
const expressionsOf = (n: Node): unknown[] => [
  n.targetList,
  n.whereClause,
  n.returningList,
  n.returningClause,
];

/** Column references of the write's expressions as field lists (`a.b` gives `['a', 'b']`; `*` as '*'). */
function columnRefs(n: Node): string[][] {
  const out: string[][] = [];
  findInTree(expressionsOf(n), (key, value) => {
    if (key !== 'ColumnRef') return false;
    const fields = ((value as Node).fields as Node[]) ?? [];
    out.push(fields.map((f) => ((f.String as Node | undefined)?.sval as string | undefined) ?? '*'));
    return false;
  });
  return out;
}

/** Why the write's shape cannot be kept exactly with the joined tables' rows read first, or null. */
function shapeRefusal(n: Node, replaced: Set<string>, refusal: Refusal): ShardRoute | null {
  if (n.withClause)
    return refusedShape(
      refusal,
      'a WITH clause on it is not supported',
      'read the CTE in a subquery of FROM',
    );
  for (const fields of columnRefs(n)) {
    const whole = fields.length === 1 && (fields[0] === '*' || replaced.has(fields[0]));
    const star = fields.length === 2 && fields[1] === '*' && replaced.has(fields[0]);
    if (whole || star || fields.length > 2)
      return refusedShape(
        refusal,
        `the write names a joined table's whole row or all its columns (${fields.join('.')})`,
        'name the columns of the joined tables one by one',
      );
  }
  return null;
}

/** The columns of a joined table the write names: qualified by its name, or unqualified and its own. */
function namedColumns(n: Node, qualifier: string, own: string[]): string[] {
  const named = new Set<string>();
  for (const fields of columnRefs(n)) {
    if (fields.length === 2 && fields[0] === qualifier) named.add(fields[1]);
    if (fields.length === 1) named.add(fields[0]);
  }
  return own.filter((c) => named.has(c));
}

/** The WHERE conjuncts the coordinator may filter by: those calling no function (it might be volatile). */
function coordinatorFilter(n: Node): unknown {
  const safe = conjuncts(n.whereClause).filter(
    (c) => !findInTree(c, (key) => key === 'FuncCall' || key === 'SQLValueFunction'),
  );
  return safe.length === 0
    ? undefined
    : safe.length === 1
      ? safe[0]
      : { BoolExpr: { boolop: 'AND_EXPR', args: safe } };
}

/** The statement with each joined table's item replaced by an empty relation: what the shards' write routes as. */
function withEmptyTables(kind: string, n: Node, items: JoinedTable[]): Node {
  const list = joinedList(kind, n).map((item, i) => {
    const t = items.find((x) => x.index === i);
    if (!t) return item;
    const empty = { SelectStmt: { whereClause: { A_Const: { isnull: true } }, op: 'SETOP_NONE' } };
    return { RangeSubselect: { subquery: empty, alias: { aliasname: t.qualifier } } };
  });
  const key = kind === 'UpdateStmt' ? 'fromClause' : 'usingClause';
  return { [kind]: { ...n, [key]: list } };
}

/**
 * The route of UPDATE … FROM / DELETE … USING whose joined sharded tables are not co-located with its target
 * (or not joined on the keys), null when it joins no sharded table, or the refusal of a shape whose meaning
 * would change. The joined rows are read in one snapshot before the write; each target row is then updated or
 * deleted once by PostgreSQL on its shard, with SET, WHERE and RETURNING evaluated there.
 */
export function joinWriteRoute(
  stmt: Node,
  table: string,
  ctx: RouteContext,
  refusal: Refusal,
  reroute: (stmt: Node, ctx: RouteContext) => ShardRoute,
): ShardRoute | null {
  const [kind, n] = nodeKind(stmt)!;
  const list = joinedList(kind, n);
  const items: JoinedTable[] = [];
  for (const [index, item] of list.entries()) {
    const rv = item.RangeVar as Node | undefined;
    const name = rv ? tableOf(rv) : undefined;
    if (!rv || !name || ctx.map.kindOf(name).kind !== 'sharded') continue;
    const columns = ctx.meta(name)?.columns;
    if (!columns) return unsupported(`cannot tell the columns of sharded table "${name}"`);
    items.push({ index, qualifier: qualifierOf(rv), table: name, columns });
  }
  // Subqueries are made constants first (route-write-from-read.ts); a write needing both reads is refused there.
  const nested = list.filter((item) => !item.RangeVar);
  const shardedIn = (item: Node) =>
    findInTree(item, (key, v) => key === 'RangeVar' && ctx.map.kindOf(tableOf(v as Node)).kind === 'sharded');
  if (items.length === 0 && !nested.some(shardedIn)) return null;
  if (findInTree(expressionsOf(n), (k) => k === 'SubLink')) return null;
  if (nested.length > 0)
    return refusedShape(
      refusal,
      'its FROM/USING list joins sharded tables across shards beside items that are not plain tables',
      'list plain tables in FROM/USING and join them in WHERE',
    );
  const shape = shapeRefusal(n, new Set(items.map((t) => t.qualifier)), refusal);
  if (shape) return shape;
  for (const t of items) t.columns = namedColumns(n, t.qualifier, t.columns);
  const after = reroute(withEmptyTables(kind, n, items), ctx);
  if (after.kind !== 'single' && after.kind !== 'multi-write')
    return after.kind === 'unsupported' ? after : unsupported(refusal.message, refusal.hint);
  const shards = after.kind === 'single' ? [after.shard] : after.shards;
  return {
    kind: 'write-from-read',
    write: { kind: 'join-values', table, stmt, items, filter: coordinatorFilter(n), shards },
    refusal,
  };
}
