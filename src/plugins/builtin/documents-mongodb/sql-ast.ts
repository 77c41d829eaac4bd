// Constants and cast type names in libpg-query's JSON AST; re-exports the shared AST readers (src/plugins/sql-ast.ts).
import { bodyOf, kindOf, listOf, names, type Node } from '../../sql-ast.js';
import { unsupported } from './errors.js';

export { bodyOf, kindOf, listOf, names, type Node };

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
