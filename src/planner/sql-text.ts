// Rewritten statements back to SQL text, with bound parameters written in as literals.
import type { Node, ParamValues } from '../router/sharding/ast-values.js';
import { deparseSql } from '../sql/deparse.js';

/**
 * A deep copy with every bound `$n` replaced by its value (an untyped literal, as the parameter was).
 * Unbound ones stay (EXPLAIN ROUTE of a statement with parameters shows them as `$n`).
 */
export function inlineParams<T>(node: T, params: ParamValues): T {
  if (Array.isArray(node)) return node.map((n) => inlineParams(n, params)) as T;
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Node;
  if (obj.ParamRef) {
    const v = params((obj.ParamRef as Node).number as number);
    if (v === undefined) return node;
    return (v === null ? { A_Const: { isnull: true } } : { A_Const: { sval: { sval: v } } }) as T;
  }
  const out: Node = {};
  for (const key in obj) out[key] = inlineParams(obj[key], params);
  return out as T;
}

export function toSql(stmt: Node): string {
  return deparseSql(stmt);
}

/** Structural equality of expressions, ignoring where in the text they appeared. */
export function sameExpression(a: unknown, b: unknown): boolean {
  return JSON.stringify(a, dropLocation) === JSON.stringify(b, dropLocation);
}

function dropLocation(key: string, value: unknown): unknown {
  return key === 'location' ? undefined : value;
}
