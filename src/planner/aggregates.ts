// Aggregate calls the proxy can merge across shards, and the partial aggregates each shard computes.
import { nodeKind, type Node } from '../router/sharding/ast-values.js';
import { findInTree } from '../router/ast-walk.js';
import type { AggKind } from '../engine/operators/aggregate.js';
import { PlanningError } from './planning-error.js';

const mergeable: Record<string, AggKind> = {
  count: 'count',
  sum: 'sum',
  min: 'min',
  max: 'max',
  avg: 'avg',
  bool_and: 'bool_and',
  every: 'bool_and',
  bool_or: 'bool_or',
};

const otherAggregates = new Set([
  'array_agg',
  'string_agg',
  'json_agg',
  'jsonb_agg',
  'json_object_agg',
  'jsonb_object_agg',
  'stddev',
  'stddev_pop',
  'stddev_samp',
  'variance',
  'var_pop',
  'var_samp',
  'bit_and',
  'bit_or',
  'percentile_cont',
  'percentile_disc',
  'mode',
  'corr',
  'covar_pop',
  'covar_samp',
  'xmlagg',
]);

function funcName(n: Node): string {
  return String(((n.funcname as Node[]).at(-1)?.String as Node | undefined)?.sval ?? '').toLowerCase();
}

/** The aggregate kind of a call, undefined for a plain function; throws for aggregates that cannot be merged. */
export function aggregateKind(expr: unknown): AggKind | undefined {
  const k = nodeKind(expr);
  if (!k || k[0] !== 'FuncCall') return undefined;
  const n = k[1];
  const name = funcName(n);
  if (n.over)
    throw new PlanningError(
      `window function ${name}() across shards is not supported`,
      'restrict the query to one shard by its key',
    );
  const kind = mergeable[name];
  if (!kind) {
    if (otherAggregates.has(name)) {
      throw new PlanningError(
        `aggregate ${name}() across shards is not supported`,
        'restrict the query to one shard by its key, or use count, sum, min, max, avg, bool_and or bool_or',
      );
    }
    return undefined;
  }
  if (n.agg_distinct)
    throw new PlanningError(
      `${name}(DISTINCT ...) across shards is not supported`,
      'restrict the query to one shard by its key',
    );
  if (n.agg_order || n.agg_filter || n.agg_within_group)
    throw new PlanningError(`${name}() with ORDER BY, FILTER or WITHIN GROUP across shards is not supported`);
  const args = (n.args as unknown[] | undefined) ?? [];
  if (!(n.agg_star && kind === 'count') && args.length !== 1)
    throw new PlanningError(`${name}() with ${args.length} arguments across shards is not supported`);
  return kind;
}

/** Whether an expression holds an aggregate call anywhere (not counting subqueries, which are refused earlier). */
export function hasAggregate(expr: unknown): boolean {
  return findInTree(
    [expr],
    (key, value) => key === 'FuncCall' && aggregateKind({ FuncCall: value }) !== undefined,
  );
}

/** The shard-side select-list entries computing one aggregate's partial values. */
export function partialTargets(kind: AggKind, call: Node, name: string): Node[] {
  const n = call.FuncCall as Node;
  const target = (fn: string, alias: string): Node => ({
    ResTarget: { name: alias, val: { FuncCall: { ...n, funcname: [{ String: { sval: fn } }] } } },
  });
  switch (kind) {
    case 'avg':
      return [target('sum', name), target('count', `${name}_count`)];
    case 'bool_and':
      return [target('bool_and', name)];
    default:
      return [target(kind, name)];
  }
}
