// Routes one SQL text over a shard map, with no bound parameters: the routing unit tests' common step.
import { parseSql } from '../../../../src/sql/parser.js';
import type { ShardMap } from '../../../../src/router/sharding/shard-map.js';
import {
  routeStatement,
  type MetaLookup,
  type ShardRoute,
} from '../../../../src/router/sharding/shard-route.js';

export function routeSql(sql: string, map: ShardMap, meta: MetaLookup): ShardRoute {
  const parsed = parseSql(sql);
  if (!parsed.ok) throw new Error(parsed.error);
  return routeStatement(parsed.statements[0], { map, meta, params: () => undefined, views: () => null });
}
