// Where UPDATE and DELETE run, and the routes every write shares when its target is not a sharded table.
import { nodeKind, type Node } from './ast-values.js';
import type { RelationRef } from './query-scopes.js';
import { relationKind } from './relation-kinds.js';
import { analysisOf, kindsOf, oneShard, setsOf, type Kinds } from './route-analysis.js';
import { spreadRefusal } from './route-refusals.js';
import { unsupported, type RouteContext, type ShardRoute } from './route-types.js';
import { joinWriteRoute } from './route-join-write.js';
import { subqueryWriteRoute } from './route-write-from-read.js';
import { TablePlacement } from './shard-map.js';
import { tableRef } from './table-refs.js';

/**
 * A write's route when its target table is a reference or unsharded table (or refused), else the target's
 * placement for the caller to route by key. A reference table is written on every shard, so the write may
 * read nothing that differs between shards; an unsharded one lives on one shard, which holds no sharded rows.
 */
export function writeTargetRoute(
  target: RelationRef,
  kinds: Kinds,
  ctx: RouteContext,
): ShardRoute | TablePlacement {
  const table = tableRef({ relname: target.relname }).table;
  const kind = relationKind(target, ctx.map, ctx.views);
  if (kind.kind === 'refused') return unsupported(kind.message, kind.hint);
  if (kind.kind === 'sharded') return kind.placement;
  if (kind.kind === 'reference') {
    if (kinds.sharded.length > 0 || kinds.unsharded.length > 0)
      return unsupported(`writes to reference table "${table}" may read only reference tables`);
    return { kind: 'multi-write', shards: ctx.map.allShards(), count: 'first', reason: 'reference-table' };
  }
  if (kinds.sharded.length > 0)
    return unsupported(`write to unsharded table "${table}" reads a sharded table`);
  return { kind: 'single', shard: kind.shard, write: true, reason: 'unsharded-table' };
}

/** UPDATE of the key column would have to move rows between shards; the key never changes in place. */
function keyUpdateRefusal(n: Node, placement: TablePlacement, table: string): ShardRoute | null {
  const sets = (n.targetList as Node[]).map((t) => String((t.ResTarget as Node).name).toLowerCase());
  if (!sets.includes(placement.column.toLowerCase())) return null;
  return unsupported(
    `UPDATE of shard key column "${placement.column}" of "${table}" is not supported: it would move rows between shards`,
    'DELETE the row and INSERT it with the new key',
  );
}

export function routeUpdateDelete(stmt: Node, kind: string, n: Node, ctx: RouteContext): ShardRoute {
  const a = analysisOf(stmt, ctx.map);
  const kinds = kindsOf(a, ctx);
  if ('kind' in kinds) return kinds;
  const target = a.scopes.relations.find((r) => r.role === 'write' && r.scope === a.scopes.root)!;
  const placement = writeTargetRoute(target, kinds, ctx);
  if (!(placement instanceof TablePlacement)) return placement;
  const table = tableRef({ relname: target.relname }).table;
  const keyRefusal = kind === 'UpdateStmt' ? keyUpdateRefusal(n, placement, table) : null;
  if (keyRefusal) return keyRefusal;
  if (kinds.unsharded.length > 0) {
    return unsupported(
      `write to sharded table "${table}" reads unsharded table "${kinds.unsharded[0].ref.table}"`,
      'make it a reference table',
    );
  }
  const sets = setsOf(a, ctx);
  const shard = oneShard(sets);
  if (shard !== null)
    return {
      kind: 'single',
      shard: shard < 0 ? ctx.map.defaultShard : shard,
      write: true,
      reason: 'shard-key',
    };
  if (spreadRefusal(a, ctx)) {
    const refusal = {
      message: `a write to "${table}" that reads other sharded tables or subqueries must target one shard`,
      hint: `restrict "${table}" and every sharded table it reads to the same shard by their keys, or configure sharding.coordinator`,
    };
    const reroute = (s: Node, c: RouteContext) => routeUpdateDelete(s, kind, nodeKind(s)![1], c);
    return (
      joinWriteRoute(stmt, table, ctx, refusal, reroute) ??
      subqueryWriteRoute(stmt, table, ctx, refusal, reroute)
    );
  }
  const shards = sets.get(a.sharded.find((p) => p.ref === target)!)!;
  return {
    kind: 'multi-write',
    shards: shards ?? ctx.map.allShards(),
    count: 'sum',
    reason: shards ? 'shard-keys' : 'no-shard-key',
  };
}
