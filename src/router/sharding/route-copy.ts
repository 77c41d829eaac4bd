// Where COPY runs on a sharded database: rows split by key, copied to every shard, or one shard's table.
import type { Node } from './ast-values.js';
import { relationKind } from './relation-kinds.js';
import { unsupported, type RouteContext, type ShardRoute } from './route-types.js';
import { tableRef } from './table-refs.js';

export function routeCopy(n: Node, ctx: RouteContext): ShardRoute {
  if (!n.relation) return unsupported('COPY (query) on a sharded database is not supported');
  const ref = tableRef(n.relation as Node);
  const kind = ctx.map.kindOf(ref.table);
  const view = relationKind(
    { relname: String((n.relation as Node).relname), table: ref.table },
    ctx.map,
    ctx.views,
  );
  if (view.kind === 'refused') return unsupported(view.message, view.hint);
  if (kind.kind === 'unsharded')
    return { kind: 'single', shard: kind.shard, write: true, reason: 'unsharded-table' };
  if (!n.is_from) {
    if (kind.kind === 'reference')
      return { kind: 'single', shard: ctx.map.defaultShard, write: false, reason: 'reference-table' };
    return unsupported(
      `COPY TO from sharded table "${ref.table}" is not supported`,
      'use SELECT, which the proxy gathers from every shard',
    );
  }
  if (n.filename)
    return unsupported(
      'COPY FROM a server file on a sharded database is not supported',
      'use COPY FROM STDIN',
    );
  if (kind.kind === 'reference')
    return { kind: 'copy-in', shards: ctx.map.allShards(), keyIndex: -1, reason: 'reference-table' };
  const attlist = (n.attlist as Node[] | undefined)?.map((a) =>
    String((a.String as Node).sval).toLowerCase(),
  );
  const meta = ctx.meta(ref.table);
  const columns = attlist ?? meta?.columns;
  const keyIndex = columns?.indexOf(kind.placement.column.toLowerCase()) ?? -1;
  if (keyIndex < 0)
    return unsupported(
      `COPY into "${ref.table}" must include its shard key column "${kind.placement.column}"`,
    );
  return {
    kind: 'copy-in',
    shards: ctx.map.allShards(),
    keyIndex,
    placement: kind.placement,
    keyType: meta?.keyType ?? 'int',
    reason: 'rows-by-shard-key',
  };
}
