// EXPLAIN ROUTE for a sharded database: the route or plan tree of a statement, one text line per node.
import { explainLines } from '../engine/types.js';
import type { Node, ParamValues } from '../router/sharding/ast-values.js';
import type { ShardRoute } from '../router/sharding/shard-route.js';
import { planSelect } from './plan-select.js';
import { PlanningError } from './planning-error.js';
import { toSql } from './sql-text.js';

const list = (shards: number[]) => `[${shards.join(',')}]`;

export function explainRoute(route: ShardRoute, stmt: Node, sql: string, params: ParamValues): string[] {
  try {
    switch (route.kind) {
      case 'single':
        return [
          `Route shards=[${route.shard}] reason=${route.reason}${route.write ? ' write' : ''} sql=${JSON.stringify(sql)}`,
        ];
      case 'scatter':
        return explainLines(planSelect(stmt, route.shards, params));
      case 'multi-write':
        return [
          `DistributedWrite shards=${list(route.shards)} commit=two-phase rows=${route.count} reason=${route.reason}`,
          `  Route shards=${list(route.shards)} sql=${JSON.stringify(sql)}`,
        ];
      case 'insert-split':
        return [
          `DistributedWrite shards=${list(route.parts.map((p) => p.shard))} commit=two-phase rows=sum reason=${route.reason}`,
          ...route.parts.map((p) => `  Route shards=[${p.shard}] sql=${JSON.stringify(toSql(p.stmt))}`),
        ];
      case 'ddl':
        return [`Broadcast shards=${list(route.shards)} reason=${route.reason} sql=${JSON.stringify(sql)}`];
      case 'copy-in':
        return [
          `CopySplit shards=${list(route.shards)} ${route.keyIndex >= 0 ? `key-column=${route.keyIndex + 1}` : 'every-row-to-every-shard'} reason=${route.reason}`,
        ];
      case 'unsupported':
        return [`Unsupported (0A000): ${route.message}${route.hint ? ` -- hint: ${route.hint}` : ''}`];
    }
  } catch (err) {
    if (err instanceof PlanningError)
      return [`Unsupported (0A000): ${err.message}${err.hint ? ` -- hint: ${err.hint}` : ''}`];
    throw err;
  }
}
