// A write's correlated EXISTS turned into IN over an uncorrelated subquery, where the two mean the same, so
// that the coordinator can evaluate it once: `EXISTS (SELECT … WHERE c.k = o.x AND p)` is `o.x IN (SELECT c.k … WHERE p)`;
// NOT EXISTS becomes an anti-join over the subquery's non-NULL values (see `antiJoin`).
import { findInTree } from '../ast-walk.js';
import type { Node } from './ast-values.js';

/** Names a query defines for its own columns: its relations' aliases and names, its CTEs. */
export function innerNames(query: unknown): Set<string> {
  const names = new Set<string>();
  findInTree(query, (key, value) => {
    const v = value as Node;
    if (key === 'RangeVar' || key === 'RangeSubselect' || key === 'RangeFunction') {
      const alias = (v.alias as Node | undefined)?.aliasname as string | undefined;
      if (alias) names.add(alias.toLowerCase());
      if (typeof v.relname === 'string') names.add(v.relname.toLowerCase());
    }
    if (key === 'CommonTableExpr') names.add(String(v.ctename).toLowerCase());
    return false;
  });
  return names;
}

/** Whether an expression names a relation (by a qualified column) that `names` does not hold: an outer one. */
export function namesOuter(expr: unknown, names: Set<string>): boolean {
  return findInTree(expr, (key, value) => {
    if (key !== 'ColumnRef') return false;
    const fields = ((value as Node).fields as Node[]) ?? [];
    if (fields.length < 2) return false;
    const q = (fields[fields.length - 2].String as Node | undefined)?.sval as string | undefined;
    return q !== undefined && !names.has(q.toLowerCase());
  });
}

const conjuncts = (e: unknown): unknown[] => {
  const b = (e as Node | undefined)?.BoolExpr as Node | undefined;
  if (b?.boolop === 'AND_EXPR') return (b.args as unknown[]).flatMap(conjuncts);
  return e ? [e] : [];
};

const andOf = (xs: unknown[]): unknown =>
  xs.length === 0 ? undefined : xs.length === 1 ? xs[0] : { BoolExpr: { boolop: 'AND_EXPR', args: xs } };

/** Clauses after which EXISTS over the rows is not a membership test of one column. */
const blocking = [
  'groupClause',
  'havingClause',
  'distinctClause',
  'limitCount',
  'limitOffset',
  'windowClause',
];

/**
 * Marks a membership sublink that stands for NOT EXISTS: its subquery gives the inner expression's non-NULL
 * values only, and it is written as `outer IS NULL OR NOT (outer = ANY (values))`, which is NOT EXISTS exactly
 * (true for a NULL outer value, never unknown), where NOT IN would turn unknown on a NULL on either side.
 */
export const antiJoin = 'polyproxyAntiJoin';

/**
 * The IN form of a correlated EXISTS, or null when it has none: its only tie to the outer row is one
 * equality of an outer column with an expression of its own rows. Only where EXISTS is a conjunct of the
 * WHERE clause are the two the same (a NULL outer column makes EXISTS false and IN null: both drop the row).
 * With `anti`, the form of NOT EXISTS (see `antiJoin`).
 */
function asMembership(sub: Node, anti: boolean): Node | null {
  const select = (sub.subselect as Node).SelectStmt as Node | undefined;
  if (!select || select.op !== 'SETOP_NONE' || blocking.some((k) => select[k])) return null;
  const names = innerNames(sub.subselect);
  const where = conjuncts(select.whereClause);
  const tied = where.filter((c) => namesOuter(c, names));
  if (tied.length !== 1) return null;
  const eq = (tied[0] as Node).A_Expr as Node | undefined;
  const op = (eq?.name as Node[] | undefined)?.map((n) => (n.String as Node).sval).join('.');
  if (!eq || eq.kind !== 'AEXPR_OP' || op !== '=') return null;
  const [outer, inner] = namesOuter(eq.lexpr, names) ? [eq.lexpr, eq.rexpr] : [eq.rexpr, eq.lexpr];
  if (!(outer as Node).ColumnRef || namesOuter(inner, names)) return null;
  const rest = where.filter((c) => c !== tied[0]);
  if (anti) rest.push({ NullTest: { arg: inner, nulltesttype: 'IS_NOT_NULL' } });
  const body: Node = { ...select, targetList: [{ ResTarget: { val: inner } }], whereClause: andOf(rest) };
  if (namesOuter([body.targetList, body.fromClause, body.withClause], names)) return null;
  return {
    subLinkType: 'ANY_SUBLINK',
    testexpr: outer,
    operName: [{ String: { sval: '=' } }],
    subselect: { SelectStmt: body },
    ...(anti && { [antiJoin]: true }),
  };
}

/** The EXISTS sublink of a conjunct `EXISTS (…)` or `NOT EXISTS (…)`, and whether it is negated. */
function existsOf(c: unknown): { sub: Node; anti: boolean } | null {
  const not = (c as Node).BoolExpr as Node | undefined;
  const anti = not?.boolop === 'NOT_EXPR';
  const inner = anti ? (not!.args as unknown[])[0] : c;
  const sub = (inner as Node).SubLink as Node | undefined;
  return sub?.subLinkType === 'EXISTS_SUBLINK' ? { sub, anti } : null;
}

/** The write with each correlated (NOT) EXISTS conjunct of its WHERE clause in IN form, where it has one. */
export function withMemberships(n: Node): Node {
  const where = conjuncts(n.whereClause);
  let changed = false;
  const out = where.map((c) => {
    const exists = existsOf(c);
    if (!exists || !namesOuter(exists.sub.subselect, innerNames(exists.sub.subselect))) return c;
    const member = asMembership(exists.sub, exists.anti);
    if (!member) return c;
    changed = true;
    return { SubLink: member };
  });
  return changed ? { ...n, whereClause: andOf(out) } : n;
}
