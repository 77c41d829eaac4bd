// Small readers for libpg-query's JSON AST: node kinds, names, constants.
import { unsupported } from './errors.js';

export type Node = Record<string, unknown>;

/** The node kind, such as "ColumnRef"; libpg-query wraps every node as `{ Kind: {...} }`. */
export function kindOf(node: unknown): string {
  return node && typeof node === 'object' ? (Object.keys(node)[0] ?? '') : '';
}

/** The fields of a node of the given kind, or undefined when it is another kind. */
export function bodyOf(node: unknown, kind: string): Node | undefined {
  if (kindOf(node) !== kind) return undefined;
  return (node as Record<string, Node>)[kind];
}

export function listOf(value: unknown): Node[] {
  return Array.isArray(value) ? (value as Node[]) : [];
}

/** `String` nodes in a name list, e.g. an operator or function name: `["pg_catalog", "int4"]`. */
export function names(list: unknown): string[] {
  return listOf(list).map((item) => String(bodyOf(item, 'String')?.sval ?? ''));
}

export interface Constant {
  /** PostgreSQL text form; null for NULL. */
  readonly text: string | null;
  readonly kind: 'integer' | 'decimal' | 'string' | 'bool' | 'null';
}

/** An A_Const's value; libpg-query leaves out zero and empty values, so absent fields mean 0, '' or false. */
export function constantOf(body: Node): Constant {
  if (body.isnull) return { text: null, kind: 'null' };
  if ('ival' in body) return { text: String((body.ival as Node).ival ?? 0), kind: 'integer' };
  if ('fval' in body) return { text: String((body.fval as Node).fval ?? '0'), kind: 'decimal' };
  if ('sval' in body) return { text: String((body.sval as Node).sval ?? ''), kind: 'string' };
  if ('boolval' in body) return { text: (body.boolval as Node).boolval ? 'true' : 'false', kind: 'bool' };
  if ('bsval' in body) throw unsupported('bit-string constants', 'use text or integers');
  return { text: null, kind: 'null' };
}

/** The SQL type name of a TypeCast, without a `pg_catalog.` prefix. */
export function typeNameOf(cast: Node): string {
  const typeName = cast.typeName as Node;
  const parts = names(typeName.names).filter((part) => part !== 'pg_catalog');
  if (listOf(typeName.arrayBounds).length) return `${parts.join('.')}[]`;
  return parts.join('.');
}
