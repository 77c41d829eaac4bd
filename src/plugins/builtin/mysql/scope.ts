// What expression translation works with: the tables in scope, the server's dialect, and small shared helpers.
import { bodyOf, listOf, type Node } from './ast.js';
import type { TableInfo } from './catalog.js';
import { join, type Frag } from './fragments.js';
import type { PgType } from './pg-types.js';

/** A table in a FROM clause: what it is called there and what MySQL calls it. */
export interface ScopeEntry {
  readonly alias: string;
  readonly table: TableInfo;
  /** ON CONFLICT's `excluded`: its columns are the proposed row, MySQL's VALUES(column). */
  readonly proposed?: boolean;
}

export interface Scope {
  readonly entries: readonly ScopeEntry[];
  readonly parent?: Scope;
  /** The select list's output names and expressions, for ORDER BY / GROUP BY by name or position. */
  readonly outputs?: readonly { name: string; node: Node }[];
}

/** What differs between MariaDB and MySQL in the translation. */
export interface Dialect {
  /** A collation comparing by code point without padding, as PostgreSQL's "C" collation does. */
  binaryCollation(charset: string): string;
  /** Whether the server has INTERSECT and EXCEPT, ALL included. */
  readonly intersectExcept: boolean;
}

/** Translates one statement's expressions; nested SELECTs come back through `subquery`. */
export interface ExpressionContext {
  readonly dialect: Dialect;
  subquery(node: Node, scope: Scope): Frag;
}

/** What the operator, cast and function modules call back into: the translation of sub-expressions. */
export interface Translate {
  readonly dialect: Dialect;
  expr(node: Node, scope: Scope): Frag;
}

export const typeOfFrag = (f: Frag): PgType | null => (f.slot ? f.slot.type : f.type);

/** Text compared as PostgreSQL's "C" collation does: byte order, case and trailing spaces significant. */
export function collated(f: Frag, dialect: Dialect): Frag {
  if (typeOfFrag(f) !== 'text') return f;
  const nullable = f.nullable;
  if (f.column?.charset)
    return { ...join('text', f, ` COLLATE ${dialect.binaryCollation(f.column.charset)}`), nullable };
  return {
    ...join('text', 'CONVERT(', f, ` USING utf8mb4) COLLATE ${dialect.binaryCollation('utf8mb4')}`),
    nullable,
  };
}

/** An expression list: a plain array, or a `List` node as newer parsers give for IN and BETWEEN. */
export const itemsOf = (value: unknown): Node[] => listOf(bodyOf(value, 'List')?.items ?? value);

/** The value of an integer constant node, else undefined. */
export function intConst(node: Node): number | undefined {
  const constant = bodyOf(node, 'A_Const');
  if (!constant || !('ival' in constant)) return undefined;
  return Number((constant.ival as Node).ival ?? 0);
}

/** A quoted literal's text, when the node is one (e.g. the '1 day' of interval '1 day'). */
export function stringConst(node: Node): string | undefined {
  const constant = bodyOf(node, 'A_Const');
  const sval = bodyOf(constant?.sval, 'sval') ?? (constant?.sval as Node | undefined)?.sval;
  return typeof sval === 'string' ? sval : undefined;
}
