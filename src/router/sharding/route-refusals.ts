// Why a statement on sharded tables cannot run as written, and what the client can do instead (0A000 refusals).
import { columnRefOf, nodeKind, type Node } from './ast-values.js';
import { columnEqualities } from './key-restriction.js';
import { untiedNested, type Placement, type ShardedRef } from './relation-shards.js';
import { analysisOf, kindsOf, placementFor, type Analysis, type Kinds } from './route-analysis.js';
import { unsupported, type RouteContext, type ShardRoute } from './route-types.js';

export const restrictHint = (table: string) =>
  `restrict every sharded table of the statement to the same shard by its key, or make "${table}" a reference table`;

/** A sharded table with an unsharded one (which only the default shard holds): no shard has both. */
export function mixRefusal(kinds: Kinds): ShardRoute {
  const u = kinds.unsharded[0];
  const s = kinds.sharded[0].ref.table;
  const via = u.kind.via;
  if (via) {
    return unsupported(
      `cannot join sharded table "${s}" with view "${via.view}" over unsharded table "${via.tables[0]}"`,
      `add ${via.tables.map((t) => `"${t}"`).join(', ')} to sharding.reference (copied to every shard)`,
    );
  }
  return unsupported(
    `cannot join sharded table "${s}" with unsharded table "${u.ref.table}"`,
    `add "${u.ref.table}" to sharding.reference (copied to every shard) or shard it on a key co-located with "${s}"`,
  );
}

const nestedSpread = (table: string): ShardRoute =>
  unsupported(
    `subqueries and CTEs over sharded table "${table}" that span several shards are not supported`,
    restrictHint(table),
  );

/**
 * Whether a statement may run on every shard (or those of `shards`) as it is, each shard answering for its
 * own rows: the sharded tables of its own level are co-located and joined on their keys, and every sharded
 * table below it (subqueries, CTEs) is tied to a row of the level above by an equality of co-located keys.
 * Null when it may; else the refusal.
 */
export function spreadRefusal(a: Analysis, ctx: RouteContext): ShardRoute | null {
  const placement = placementFor(a, ctx);
  if (placement.rootGroups.length === 0) return nestedSpread(a.sharded[0].ref.table);
  if (placement.rootGroups.length > 1) return joinRefusal(a, placement);
  const untied = untiedNested(placement, a.scopes.root);
  return untied.length > 0 ? nestedSpread(untied[0].ref.table) : null;
}

/** Tables of the statement's own level that are not joined on their keys: the refusal, and a hint that cannot mislead. */
function joinRefusal(a: Analysis, placement: Placement): ShardRoute {
  const [first, second] = placement.rootGroups;
  const x = first[0];
  const y = second.find((p) => !p.placement.colocatedWith(x.placement)) ?? second[0];
  if (!x.placement.colocatedWith(y.placement)) {
    return unsupported(
      `tables "${x.ref.table}" and "${y.ref.table}" are not co-located (${x.placement.describe()} vs ${y.placement.describe()})`,
      'shard both tables with the same algorithm and shard count, or make one a reference table',
    );
  }
  const message = `join of "${x.ref.table}" and "${y.ref.table}" is not on their shard keys`;
  return unsupported(message, colocatingHint(a, new Set(first)) ?? restrictHint(y.ref.table));
}

/** A column of the statement's own level and the sharded relation it belongs to. */
interface OwnedColumn {
  p: ShardedRef;
  column: string;
}

/**
 * Only the statement's own equalities may shape a hint: the key of one side equated with another column
 * of the other side means sharding that side by that column would co-locate the join as it is written.
 */
function colocatingHint(a: Analysis, inFirst: Set<ShardedRef>): string | undefined {
  const byRef = new Map(a.sharded.map((p) => [p.ref, p]));
  const ownerOf = (expr: unknown): OwnedColumn | undefined => {
    const col = columnRefOf(expr);
    const name = col?.qualifier?.toLowerCase();
    const p = name ? byRef.get(a.scopes.root.names.get(name)!) : undefined;
    return p && col ? { p, column: col.column.toLowerCase() } : undefined;
  };
  for (const [l, r] of a.scopes.root.conditions.flatMap(columnEqualities)) {
    const [ol, or] = [ownerOf(l), ownerOf(r)];
    if (!ol || !or || inFirst.has(ol.p) === inFirst.has(or.p)) continue;
    const hint = keyToColumnHint(ol, or) ?? keyToColumnHint(or, ol);
    if (hint) return hint;
  }
  return undefined;
}

/** `keyed`'s shard key equated with a non-key column of `other`, co-located: shard `other` by that column. */
function keyToColumnHint(keyed: OwnedColumn, other: OwnedColumn): string | undefined {
  const k = keyed.p;
  const o = other.p;
  const keyedOnKey = k.placement.column.toLowerCase() === keyed.column;
  const otherOnKey = o.placement.column.toLowerCase() === other.column;
  if (!keyedOnKey || otherOnKey || !k.placement.colocatedWith(o.placement)) return undefined;
  return `the join equates ${k.ref.alias}.${keyed.column} with ${o.ref.alias}.${other.column}: sharding "${o.ref.table}" by "${other.column}" would co-locate them; or make "${o.ref.table}" a reference table`;
}

/**
 * Statements holding a query that runs elsewhere than the statement's route: a PREPARE (run later by
 * EXECUTE on the default shard), a cursor (declared, then fetched from every shard and answered by one),
 * CREATE TABLE AS and its SELECT (each shard's new table would hold only that shard's rows). None of them may
 * read a sharded table. A materialized view may be created: its reads are refused instead.
 */
export function nestedRefusal(kind: string, n: Node, ctx: RouteContext): ShardRoute | null {
  if (kind === 'CreateTableAsStmt' && n.objtype === 'OBJECT_MATVIEW') return null;
  const query = n.query as Node | undefined;
  if (!nodeKind(query)) return null;
  const a = analysisOf(query!, ctx.map);
  const kinds = kindsOf(a, ctx);
  if ('kind' in kinds) return kinds;
  const table = kinds.sharded[0]?.ref.table;
  if (!table) return null;
  if (kind === 'PrepareStmt') {
    return unsupported(
      `PREPARE of a statement on sharded table "${table}" is not supported`,
      'prepare it through the protocol (Parse and Bind, as drivers do): the proxy routes each execution',
    );
  }
  if (kind === 'DeclareCursorStmt') {
    return unsupported(
      `cursors over sharded table "${table}" are not supported`,
      'run the query without a cursor: the proxy gathers its rows from every shard',
    );
  }
  return unsupported(
    `CREATE TABLE AS over sharded table "${table}" would store only each shard's rows on that shard`,
    'create the table, then fill it through the proxy with INSERT … VALUES or COPY',
  );
}
