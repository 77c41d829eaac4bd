// ORDER BY items as sort keys over output columns, resolving positions, aliases and repeated expressions.
import { constantOf, columnRefOf, noParams, type Node } from '../router/sharding/ast-values.js';
import type { SortKey } from '../engine/values/compare.js';
import { PlanningError } from './planning-error.js';
import { sameExpression } from './sql-text.js';

export interface SortItem {
  expr: unknown;
  desc: boolean;
  nullsFirst: boolean;
}

export function sortItems(sortClause: unknown[] | undefined): SortItem[] {
  return (sortClause ?? []).map((item) => {
    const s = (item as Node).SortBy as Node;
    if (s.sortby_dir === 'SORTBY_USING')
      throw new PlanningError('ORDER BY ... USING across shards is not supported');
    const desc = s.sortby_dir === 'SORTBY_DESC';
    const nullsFirst =
      s.sortby_nulls === 'SORTBY_NULLS_FIRST' ? true : s.sortby_nulls === 'SORTBY_NULLS_LAST' ? false : desc;
    return { expr: s.node, desc, nullsFirst };
  });
}

/**
 * The select-list position an ORDER BY expression names: `ORDER BY 2`, an output alias, or an expression
 * the select list repeats; -1 when none does (the planner then adds a helper column).
 */
export function targetIndexOf(expr: unknown, targets: Node[]): number {
  const position = constantOf(expr, noParams);
  if (typeof position === 'bigint') {
    const i = Number(position) - 1;
    if (i < 0 || i >= targets.length)
      throw new PlanningError(`ORDER BY position ${position} is not in select list`);
    return i;
  }
  const ref = columnRefOf(expr);
  if (ref && ref.qualifier === undefined) {
    const byAlias = targets.findIndex((t) => t.name !== undefined && String(t.name) === ref.column);
    if (byAlias >= 0) return byAlias;
  }
  return targets.findIndex((t) => sameExpression(t.val, expr));
}

export function sortKey(index: number, item: SortItem): SortKey {
  return { index, desc: item.desc, nullsFirst: item.nullsFirst };
}
