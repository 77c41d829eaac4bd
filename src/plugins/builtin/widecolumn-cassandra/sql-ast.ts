// The values a statement binds (constants and $n parameters) and column names; re-exports the shared AST readers (src/plugins/sql-ast.ts).
import { bodyOf, kindOf, listOf, names, type Node } from '../../sql-ast.js';
import { unsupported } from './errors.js';

export { bodyOf, kindOf, listOf, names, type Node };

/**
 * A value in PostgreSQL text form: a constant, a $n parameter, or either under a cast (the column's type
 * decides how it is read). `undefined` while describing, when parameters have no values yet.
 */
export type ValueText = string | null | undefined;

export class Values {
  /** params null: describing (no values); the highest $n seen is still counted. */
  constructor(private readonly params: readonly (string | null)[] | null) {}

  highestParam = 0;
  /** PostgreSQL type OIDs of parameters compared with or assigned to a column ($1 is [0]). */
  readonly paramOids: number[] = [];

  get describing(): boolean {
    return this.params === null;
  }

  /** oid: the type of the column the value goes to, reported for its parameter by Describe. */
  textOf(node: Node, oid?: number): ValueText {
    const cast = bodyOf(node, 'TypeCast');
    if (cast) return this.textOf(cast.arg as Node, oid);
    const param = bodyOf(node, 'ParamRef');
    if (param) {
      const n = Number(param.number ?? 0);
      this.highestParam = Math.max(this.highestParam, n);
      if (oid !== undefined && n >= 1) this.paramOids[n - 1] ??= oid;
      if (!this.params) return undefined;
      if (n < 1 || n > this.params.length)
        throw unsupported(`parameter $${n} has no value`, `bind ${n} parameters`);
      return this.params[n - 1];
    }
    const constant = bodyOf(node, 'A_Const');
    if (constant) return constantText(constant);
    throw unsupported(
      `the expression ${kindOf(node) || 'here'} as a value`,
      'use constants or $n parameters',
    );
  }
}

/** An A_Const's value; libpg-query leaves out zero and empty values, so absent fields mean 0, '' or false. */
function constantText(body: Node): string | null {
  if (body.isnull) return null;
  if ('ival' in body) return String((body.ival as Node).ival ?? 0);
  if ('fval' in body) return String((body.fval as Node).fval ?? '0');
  if ('sval' in body) return String((body.sval as Node).sval ?? '');
  if ('boolval' in body) return (body.boolval as Node).boolval ? 'true' : 'false';
  throw unsupported('bit-string constants', 'use text or integers');
}

/** A column reference's name; `t.col` is accepted when t is the statement's table or its alias. */
export function columnName(node: Node, tableNames: readonly string[]): string | undefined {
  const ref = bodyOf(node, 'ColumnRef');
  if (!ref) return undefined;
  const parts = names(ref.fields);
  if (parts.length === 1) return parts[0];
  if (parts.length === 2 && tableNames.includes(parts[0])) return parts[1];
  if (parts.length === 3 && tableNames.includes(`${parts[0]}.${parts[1]}`)) return parts[2];
  return undefined;
}

/** CQL identifiers are always quoted: the names are exactly those system_schema lists. */
export function quoteCql(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
