// Scatter-gather plans for a SELECT over several shards: what each shard runs and how the proxy merges it.
import { Aggregate, type AggSpec, type OutputRef } from '../engine/operators/aggregate.js';
import { Cast, type ColumnCast } from '../engine/operators/cast.js';
import { castTarget } from '../engine/values/cast-text.js';
import { Distinct } from '../engine/operators/distinct.js';
import { Filter, type Predicate } from '../engine/operators/filter.js';
import { Limit } from '../engine/operators/limit.js';
import { MergeSort } from '../engine/operators/merge-sort.js';
import { Project } from '../engine/operators/project.js';
import { Route } from '../engine/operators/route.js';
import { Sort } from '../engine/operators/sort.js';
import type { SortKey } from '../engine/values/compare.js';
import type { Operator } from '../engine/types.js';
import {
  constantOf,
  nodeKind,
  operatorOf,
  type Node,
  type ParamValues,
} from '../router/sharding/ast-values.js';
import { findInTree } from '../router/ast-walk.js';
import { aggregateKind, hasAggregate, partialTargets } from './aggregates.js';
import { columnName } from './column-names.js';
import { PlanningError } from './planning-error.js';
import { sortItems, sortKey, targetIndexOf, type SortItem } from './sort-clause.js';
import { inlineParams, sameExpression, toSql } from './sql-text.js';

interface Limits {
  count: number | null;
  offset: number;
}

function limitsOf(n: Node, params: ParamValues): Limits {
  if (n.limitOption === 'LIMIT_OPTION_WITH_TIES')
    throw new PlanningError('FETCH ... WITH TIES across shards is not supported');
  const number = (expr: unknown, what: string): number | null => {
    if (expr === undefined) return null;
    const v = constantOf(expr, params);
    if (v === null) return null;
    if (v === undefined || !/^\d+$/.test(String(v)))
      throw new PlanningError(`${what} across shards must be a constant or parameter`);
    return Number(v);
  };
  return { count: number(n.limitCount, 'LIMIT'), offset: number(n.limitOffset, 'OFFSET') ?? 0 };
}

function isStar(target: Node): boolean {
  return findInTree(target.val, (key) => key === 'A_Star');
}

/** The plan of a SELECT the router scattered over `shards`. */
export function planSelect(stmt: Node, shards: number[], params: ParamValues): Operator {
  const n = inlineParams(stmt.SelectStmt as Node, params);
  const targets = ((n.targetList as Node[]) ?? []).map((t) => t.ResTarget as Node);
  const distinct = n.distinctClause as Node[] | undefined;
  if (distinct && distinct.some((d) => Object.keys(d).length > 0)) {
    throw new PlanningError(
      'SELECT DISTINCT ON across shards is not supported',
      'use DISTINCT or GROUP BY, or restrict the query to one shard',
    );
  }
  const grouped =
    ((n.groupClause as unknown[]) ?? []).length > 0 ||
    n.havingClause !== undefined ||
    targets.some((t) => hasAggregate(t.val));
  const limits = limitsOf(n, () => undefined);
  return grouped
    ? planAggregate(n, targets, shards, limits, Boolean(distinct))
    : planRows(n, targets, shards, limits, Boolean(distinct));
}

/** Rows without aggregation: each shard sorts and limits, the proxy merges, de-duplicates and cuts. */
function planRows(n: Node, targets: Node[], shards: number[], limits: Limits, distinct: boolean): Operator {
  const items = sortItems(n.sortClause as unknown[]);
  const firstStar = targets.findIndex(isStar);
  const helpers: Node[] = [];
  const keys: SortKey[] = items.map((item) => {
    const i = targetIndexOf(item.expr, targets);
    if (i >= 0 && (firstStar < 0 || i < firstStar)) return sortKey(i, item);
    if (i >= 0 && isStar(targets[i]))
      throw new PlanningError(
        'ORDER BY a position of * across shards is not supported',
        'name the sort column',
      );
    helpers.push({
      ResTarget: { name: `pp_sort_${helpers.length}`, val: i >= 0 ? targets[i].val : item.expr },
    });
    return sortKey(-1 - (items.length - 1), item);
  });
  // Helper positions count from the end: the select list's width is unknown while it has a *.
  let h = 0;
  for (const k of keys) if (k.index < 0) k.index = -helpers.length + h++;
  const shardStmt: Node = {
    ...n,
    targetList: [...targets.map((t) => ({ ResTarget: t })), ...helpers],
    limitCount:
      limits.count === null ? undefined : { A_Const: { ival: { ival: limits.count + limits.offset } } },
    limitOffset: undefined,
  };
  if (limits.count === null) shardStmt.limitOption = 'LIMIT_OPTION_DEFAULT';
  let op: Operator = new Route(shards, toSql({ SelectStmt: shardStmt }));
  if (keys.length > 0) op = new MergeSort(op, keys);
  if (distinct) op = new Distinct(op, helpers.length);
  if (limits.count !== null || limits.offset > 0) op = new Limit(op, limits.count, limits.offset);
  if (helpers.length > 0) op = new Project(op, helpers.length);
  return op;
}

/** GROUP BY and aggregates: shards compute partial aggregates per group, the proxy merges them. */
function planAggregate(
  n: Node,
  targets: Node[],
  shards: number[],
  limits: Limits,
  distinct: boolean,
): Operator {
  if (targets.some(isStar))
    throw new PlanningError('SELECT * with GROUP BY or aggregates across shards is not supported');
  if (distinct) throw new PlanningError('SELECT DISTINCT with aggregates across shards is not supported');
  const groupExprs = groupExpressions(n, targets);
  const out = new AggregateOutputs(groupExprs);
  for (const t of targets) out.addTarget(t);
  const visible = out.outputs.length;
  const outputOf = (expr: unknown) => out.outputOf(expr);
  const having = n.havingClause === undefined ? null : predicateOf(n.havingClause, outputOf);
  const items: SortItem[] = sortItems(n.sortClause as unknown[]);
  const keys = items.map((item) => {
    let i = targetIndexOf(item.expr, targets);
    if (i < 0) i = outputOf(item.expr) ?? -1;
    if (i < 0)
      throw new PlanningError(
        'ORDER BY expression must be a GROUP BY expression or an aggregate to run across shards',
      );
    return sortKey(i, item);
  });
  const { stmt, specs } = partialSelect(n, groupExprs, out.aggCalls);
  let op: Operator = new Route(shards, toSql({ SelectStmt: stmt }));
  op = new Aggregate(
    op,
    groupExprs.map((_, i) => i),
    specs,
    out.outputs,
  );
  if (out.casts.length > 0) op = new Cast(op, out.casts);
  if (having) op = new Filter(op, having);
  if (keys.length > 0) op = new Sort(op, keys);
  if (limits.count !== null || limits.offset > 0) op = new Limit(op, limits.count, limits.offset);
  if (out.outputs.length > visible) op = new Project(op, out.outputs.length - visible);
  return op;
}

/** The GROUP BY expressions, positions replaced by the select-list expressions they name. */
function groupExpressions(n: Node, targets: Node[]): unknown[] {
  return ((n.groupClause as unknown[]) ?? []).map((g) => {
    const k = nodeKind(g);
    if (k && (k[0] === 'GroupingSet' || k[0] === 'RowExpr'))
      throw new PlanningError('GROUPING SETS, ROLLUP and CUBE across shards are not supported');
    const position = constantOf(g, () => undefined);
    if (typeof position === 'bigint') {
      const t = targets[Number(position) - 1];
      if (!t) throw new PlanningError(`GROUP BY position ${position} is not in select list`);
      return t.val;
    }
    return g;
  });
}

interface AggCall {
  kind: AggSpec['kind'];
  call: unknown;
}

/** The merged rows' columns: group keys and aggregates, the client's first, then hidden ones HAVING and ORDER BY need. */
class AggregateOutputs {
  readonly aggCalls: AggCall[] = [];
  readonly outputs: OutputRef[] = [];
  readonly casts: ColumnCast[] = [];

  constructor(private readonly groupExprs: unknown[]) {}

  private aggIndex(call: unknown): number {
    const kind = aggregateKind(call)!;
    let i = this.aggCalls.findIndex((a) => sameExpression(a.call, call));
    if (i < 0) i = this.aggCalls.push({ kind, call }) - 1;
    return i;
  }

  private refOf(expr: unknown, name: string): OutputRef | null {
    if (aggregateKind(expr)) return { agg: this.aggIndex(expr), name };
    const g = this.groupExprs.findIndex((e) => sameExpression(e, expr));
    return g >= 0 ? { group: g, name } : null;
  }

  /** A select-list entry: a group key or one aggregate, perhaps cast. */
  addTarget(t: Node): void {
    const cast = castOf(t.val);
    const ref = this.refOf(cast ? cast.arg : t.val, columnName(t));
    if (!ref) {
      throw new PlanningError(
        `select-list expression "${columnName(t)}" must be a GROUP BY expression or a single aggregate to run across shards`,
        'compute expressions over aggregates in the application, or restrict the query to one shard',
      );
    }
    if (cast) {
      ref.cast = true;
      this.casts.push({ index: this.outputs.length, target: cast.target, typeName: cast.typeName });
    }
    this.outputs.push(ref);
  }

  /** The output column of an expression, adding a hidden one when the select list lacks it. */
  outputOf(expr: unknown): number | null {
    const ref = this.refOf(expr, `pp_hidden_${this.outputs.length}`);
    if (!ref) return null;
    const found = this.outputs.findIndex(
      (o) =>
        !o.cast && ('agg' in ref ? 'agg' in o && o.agg === ref.agg : 'group' in o && o.group === ref.group),
    );
    return found >= 0 ? found : this.outputs.push(ref) - 1;
  }
}

/** What each shard runs: group keys first, then each aggregate's partial values, grouped by position. */
function partialSelect(
  n: Node,
  groupExprs: unknown[],
  aggCalls: AggCall[],
): { stmt: Node; specs: AggSpec[] } {
  const shardTargets: Node[] = groupExprs.map((g, i) => ({ ResTarget: { name: `pp_g${i}`, val: g } }));
  const specs: AggSpec[] = aggCalls.map((a, i) => {
    const input = shardTargets.length;
    shardTargets.push(...partialTargets(a.kind, a.call as Node, `pp_a${i}`));
    return { kind: a.kind, input };
  });
  const stmt: Node = {
    ...n,
    targetList: shardTargets,
    groupClause: groupExprs.map((_, i) => ({ A_Const: { ival: { ival: i + 1 } } })),
    havingClause: undefined,
    sortClause: undefined,
    limitCount: undefined,
    limitOffset: undefined,
    limitOption: 'LIMIT_OPTION_DEFAULT',
  };
  if (groupExprs.length === 0) delete stmt.groupClause;
  return { stmt, specs };
}

/** `expr::type` in the select list, when the proxy can apply the cast to a merged value. */
function castOf(expr: unknown): { arg: unknown; target: ColumnCast['target']; typeName: string } | null {
  const k = nodeKind(expr);
  if (!k || k[0] !== 'TypeCast') return null;
  const typeName = k[1].typeName as Node;
  if (typeName.arrayBounds) return null;
  const name = ((typeName.names as Node[]).at(-1)?.String as { sval?: string } | undefined)?.sval ?? '';
  const modifiers = ((typeName.typmods as Node[] | undefined) ?? []).map((m) =>
    Number(constantOf(m, () => undefined)),
  );
  if (modifiers.some((m) => !Number.isInteger(m))) return null;
  const target = castTarget(name, modifiers);
  if (!target) return null;
  const shown = modifiers.length > 0 ? `${name}(${modifiers.join(',')})` : name;
  return { arg: k[1].arg, target, typeName: shown };
}

const comparisons = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

/** HAVING as a predicate over output columns; aggregates and group keys it needs become hidden columns. */
function predicateOf(expr: unknown, outputOf: (e: unknown) => number | null): Predicate {
  const k = nodeKind(expr);
  const fail = () =>
    new PlanningError(
      'this HAVING clause cannot run across shards',
      'use comparisons of aggregates or GROUP BY expressions with constants, joined by AND, OR, NOT',
    );
  if (!k) throw fail();
  const [kind, n] = k;
  const column = outputOf(expr);
  if (column !== null) return { kind: 'column', index: column };
  if (kind === 'A_Const' || (kind === 'TypeCast' && nodeKind(n.arg)?.[0] === 'A_Const')) {
    const v = constantOf(expr, () => undefined);
    if (v === undefined) throw fail();
    return { kind: 'constant', value: v === null ? null : String(v) };
  }
  if (kind === 'BoolExpr') {
    const args = (n.args as unknown[]).map((a) => predicateOf(a, outputOf));
    if (n.boolop === 'NOT_EXPR') return { kind: 'not', arg: args[0] };
    return { kind: n.boolop === 'AND_EXPR' ? 'and' : 'or', args };
  }
  if (kind === 'NullTest')
    return { kind: 'is-null', arg: predicateOf(n.arg, outputOf), negated: n.nulltesttype === 'IS_NOT_NULL' };
  if (kind === 'A_Expr' && n.kind === 'AEXPR_OP' && comparisons.has(operatorOf(n) ?? '')) {
    const op = operatorOf(n) === '!=' ? '<>' : (operatorOf(n) as '=' | '<>' | '<' | '>' | '<=' | '>=');
    return {
      kind: 'compare',
      op,
      left: predicateOf(n.lexpr, outputOf),
      right: predicateOf(n.rexpr, outputOf),
    };
  }
  throw fail();
}
