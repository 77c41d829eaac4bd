// The tables a statement reads or writes, where they appear, and the join conditions between them.
import { findInTree } from '../ast-walk.js';
import { nodeKind, type Node } from './ast-values.js';

export interface TableRef {
  table: string;
  /** The name that qualifies its columns in the statement: the alias, else the table name. */
  alias: string;
}

export interface FromTables {
  /** Tables in the top-level FROM list and its joins. */
  top: TableRef[];
  /** ON conditions of the top-level joins. */
  joinQuals: unknown[];
  /** Tables anywhere else: subqueries, CTEs, sublinks in WHERE or the select list. */
  nested: TableRef[];
  /** The statement has a subquery, CTE or sublink. */
  hasSubquery: boolean;
}

export function tableRef(rangeVar: Node): TableRef {
  const table = String(rangeVar.relname).toLowerCase();
  const alias = (rangeVar.alias as { aliasname?: string } | undefined)?.aliasname?.toLowerCase();
  return { table, alias: alias ?? table };
}

function walkFrom(
  item: unknown,
  out: { top: TableRef[]; joinQuals: unknown[] },
  subqueries: unknown[],
): void {
  const k = nodeKind(item);
  if (!k) return;
  const [kind, n] = k;
  if (kind === 'RangeVar') out.top.push(tableRef(n));
  else if (kind === 'JoinExpr') {
    walkFrom(n.larg, out, subqueries);
    walkFrom(n.rarg, out, subqueries);
    if (n.quals) out.joinQuals.push(n.quals);
  } else subqueries.push(item);
}

/** Tables of a SELECT, UPDATE or DELETE; `extra` holds the FROM/USING items of UPDATE/DELETE. */
export function fromTables(stmt: Node, fromItems: unknown[]): FromTables {
  const out = { top: [] as TableRef[], joinQuals: [] as unknown[] };
  const subqueries: unknown[] = [];
  for (const item of fromItems) walkFrom(item, out, subqueries);
  const cteNames = new Set<string>();
  const ctes = (stmt.withClause as Node | undefined)?.ctes as Node[] | undefined;
  for (const c of ctes ?? []) cteNames.add(String((c.CommonTableExpr as Node).ctename).toLowerCase());
  const all: TableRef[] = [];
  findInTree(stmt, (key, value) => {
    if (key === 'RangeVar') all.push(tableRef(value as Node));
    return false;
  });
  const topCount = new Map<string, number>();
  for (const t of out.top) topCount.set(t.alias, (topCount.get(t.alias) ?? 0) + 1);
  const nested: TableRef[] = [];
  for (const t of all) {
    const left = topCount.get(t.alias) ?? 0;
    if (left > 0) topCount.set(t.alias, left - 1);
    else if (!cteNames.has(t.table)) nested.push(t);
  }
  const hasSubquery =
    subqueries.length > 0 ||
    cteNames.size > 0 ||
    findInTree(stmt, (key) => key === 'SubLink' || key === 'RangeSubselect');
  return {
    top: out.top.filter((t) => !cteNames.has(t.table)),
    joinQuals: out.joinQuals,
    nested,
    hasSubquery,
  };
}
