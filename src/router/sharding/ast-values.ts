// Reading constants, parameters and column references out of libpg-query expression nodes.
import type { KeyValue } from './key-value.js';

export type Node = Record<string, unknown>;

/** Bound parameter values ($1 is 1) as text; undefined while not bound yet (at Parse or Describe). */
export type ParamValues = (n: number) => string | null | undefined;

export const noParams: ParamValues = () => undefined;

/** The one key of a node (`{ A_Const: {...} }` gives ['A_Const', {...}]). */
export function nodeKind(node: unknown): [string, Node] | null {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return null;
  const key = Object.keys(node)[0];
  return key ? [key, (node as Node)[key] as Node] : null;
}

/**
 * A constant's value as a key: integers as bigint, other literals as text, NULL as null; undefined when
 * the expression is not a constant (a column, a function call, an unbound parameter). Casts are looked
 * through: `'42'::int8` and `$1::text` are their operand's value.
 */
export function constantOf(expr: unknown, params: ParamValues): KeyValue | null | undefined {
  const k = nodeKind(expr);
  if (!k) return undefined;
  const [kind, n] = k;
  if (kind === 'TypeCast') return constantOf(n.arg, params);
  if (kind === 'ParamRef') {
    const v = params(n.number as number);
    return v === undefined ? undefined : v;
  }
  if (kind !== 'A_Const') return undefined;
  if (n.isnull) return null;
  if (n.ival) return BigInt((n.ival as { ival?: number }).ival ?? 0);
  if (n.sval) return (n.sval as { sval?: string }).sval ?? '';
  if (n.fval) return (n.fval as { fval: string }).fval;
  if (n.boolval) return (n.boolval as { boolval?: boolean }).boolval ? 'true' : 'false';
  return undefined;
}

/** Elements of an array constant: `ARRAY[1,2]`, `'{1,2}'`, or a parameter bound to an array; undefined if unknown. */
export function arrayConstantOf(expr: unknown, params: ParamValues): (KeyValue | null)[] | undefined {
  const k = nodeKind(expr);
  if (!k) return undefined;
  const [kind, n] = k;
  if (kind === 'TypeCast') return arrayConstantOf(n.arg, params);
  if (kind === 'A_ArrayExpr') {
    const values = ((n.elements as unknown[]) ?? []).map((e) => constantOf(e, params));
    return values.some((v) => v === undefined) ? undefined : (values as (KeyValue | null)[]);
  }
  const text = constantOf(expr, params);
  return typeof text === 'string' ? parseArrayLiteral(text) : undefined;
}

/** A one-dimensional array in PostgreSQL's text form, `{1,2,"a b",NULL}`; undefined when nested. */
export function parseArrayLiteral(text: string): (KeyValue | null)[] | undefined {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) return undefined;
  const out: (KeyValue | null)[] = [];
  let i = 1;
  const end = s.length - 1;
  while (i < end) {
    while (s[i] === ' ') i++;
    let item = '';
    let quoted = false;
    if (s[i] === '{') return undefined;
    if (s[i] === '"') {
      quoted = true;
      i++;
      while (i < end && s[i] !== '"') {
        if (s[i] === '\\') i++;
        item += s[i++];
      }
      i++;
    } else {
      while (i < end && s[i] !== ',') item += s[i++];
      item = item.trim();
    }
    out.push(!quoted && item.toUpperCase() === 'NULL' ? null : item);
    while (i < end && s[i] !== ',') i++;
    i++;
  }
  return out;
}

/** `t.col` or `col`: the qualifier (if any) and the column name, lower-cased as PostgreSQL folds them. */
export function columnRefOf(expr: unknown): { qualifier?: string; column: string } | undefined {
  const k = nodeKind(expr);
  if (!k) return undefined;
  if (k[0] === 'TypeCast') return columnRefOf(k[1].arg);
  if (k[0] !== 'ColumnRef') return undefined;
  const fields = (k[1].fields as Node[]).map((f) => (f.String as { sval?: string } | undefined)?.sval);
  if (fields.some((f) => f === undefined)) return undefined;
  const names = fields as string[];
  return { qualifier: names.length > 1 ? names.at(-2) : undefined, column: names.at(-1)! };
}

/** The operator name of an A_Expr (`=`, `<`, ...). */
export function operatorOf(n: Node): string | undefined {
  const name = n.name as Node[] | undefined;
  return (name?.at(-1)?.String as { sval?: string } | undefined)?.sval;
}
