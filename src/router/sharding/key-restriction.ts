// Which key values a WHERE clause allows for one table: the router's basis for single-shard routes.
import {
  arrayConstantOf,
  columnRefOf,
  constantOf,
  nodeKind,
  operatorOf,
  type Node,
  type ParamValues,
} from './ast-values.js';
import type { KeyValue } from './key-value.js';

/** The table a key belongs to, as the statement names it. */
export interface KeyColumn {
  column: string;
  /** Names that qualify the table's columns: its alias, or its own name. */
  names: string[];
  /** Unqualified column names resolve to this table (it is the only table, or the only one with the key). */
  unqualified: boolean;
}

/** Every key value a row may have, or 'any' when the clause does not restrict the key to constants. */
export type Restriction = (KeyValue | null)[] | 'any';

function isKey(expr: unknown, key: KeyColumn): boolean {
  const ref = columnRefOf(expr);
  if (!ref || ref.column.toLowerCase() !== key.column.toLowerCase()) return false;
  return ref.qualifier === undefined ? key.unqualified : key.names.includes(ref.qualifier.toLowerCase());
}

export function keyRestriction(expr: unknown, key: KeyColumn, params: ParamValues): Restriction {
  const k = nodeKind(expr);
  if (!k) return 'any';
  const [kind, n] = k;
  if (kind === 'BoolExpr') {
    const parts = (n.args as unknown[]).map((a) => keyRestriction(a, key, params));
    if (n.boolop === 'AND_EXPR') {
      const known = parts.filter((p): p is (KeyValue | null)[] => p !== 'any');
      if (known.length === 0) return 'any';
      return known.reduce((acc, p) => acc.filter((v) => p.some((w) => sameKey(v, w))));
    }
    if (n.boolop === 'OR_EXPR') {
      if (parts.some((p) => p === 'any')) return 'any';
      return (parts as (KeyValue | null)[][]).flat();
    }
    return 'any';
  }
  if (kind === 'NullTest' && n.nulltesttype === 'IS_NULL' && isKey(n.arg, key)) return [null];
  if (kind !== 'A_Expr' || operatorOf(n) !== '=') return 'any';
  if (n.kind === 'AEXPR_OP') {
    const [col, other] = isKey(n.lexpr, key) ? [n.lexpr, n.rexpr] : [n.rexpr, n.lexpr];
    if (!isKey(col, key)) return 'any';
    const v = constantOf(other, params);
    // `key = NULL` matches no row; PostgreSQL sends it nowhere useful, any one shard will do.
    return v === undefined ? 'any' : [v];
  }
  if (n.kind === 'AEXPR_IN' && isKey(n.lexpr, key)) {
    const items = ((n.rexpr as Node).List as Node | undefined)?.items as unknown[] | undefined;
    const values = (items ?? []).map((i) => constantOf(i, params));
    return items && values.every((v) => v !== undefined) ? (values as (KeyValue | null)[]) : 'any';
  }
  if (n.kind === 'AEXPR_OP_ANY' && isKey(n.lexpr, key)) return arrayConstantOf(n.rexpr, params) ?? 'any';
  return 'any';
}

function sameKey(a: KeyValue | null, b: KeyValue | null): boolean {
  return a === null || b === null ? a === b : String(a) === String(b);
}

/** Pairs of columns a clause says are equal (`a.x = b.y` in its top-level AND), for co-located joins. */
export function columnEqualities(expr: unknown): [unknown, unknown][] {
  const k = nodeKind(expr);
  if (!k) return [];
  const [kind, n] = k;
  if (kind === 'BoolExpr' && n.boolop === 'AND_EXPR') return (n.args as unknown[]).flatMap(columnEqualities);
  if (kind === 'A_Expr' && n.kind === 'AEXPR_OP' && operatorOf(n) === '=') {
    if (columnRefOf(n.lexpr) && columnRefOf(n.rexpr)) return [[n.lexpr, n.rexpr]];
  }
  return [];
}

export { isKey };
