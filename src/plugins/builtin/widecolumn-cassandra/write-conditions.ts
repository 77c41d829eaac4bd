// What a write by primary key says beyond the key: WHERE on other columns as CQL IF conditions, and counter increments.
import type { Column, Table } from './catalog.js';
import { oids } from './cql-types.js';
import { unsupported } from './errors.js';
import type { Restriction } from './restrictions.js';
import { bodyOf, columnName, names, quoteCql, type Node, type Values } from './sql-ast.js';
import { toDriver } from './values.js';

const isKey = (column: Column) => column.kind === 'partition_key' || column.kind === 'clustering';

/** A counter table's non-key columns are all counters; it takes no lightweight transaction, TTL or INSERT. */
export const isCounterTable = (table: Table) => table.columns.some((c) => c.type.name === 'counter');

/** Key restrictions name the row; the others become conditions on it. */
export function splitConditions(restrictions: readonly Restriction[]): {
  key: Restriction[];
  conditions: Restriction[];
} {
  return {
    key: restrictions.filter((r) => isKey(r.column)),
    conditions: restrictions.filter((r) => !isKey(r.column)),
  };
}

/**
 * ` IF "a" = ? AND "b" > ?`: a lightweight transaction applied only when the row exists and matches, which is
 * what PostgreSQL's WHERE on these columns counts (a null column matches no condition in either store; a
 * condition with a null value matches nothing and never reaches Cassandra).
 */
export function conditionsCql(conditions: readonly Restriction[]): { text: string; params: unknown[] } {
  const parts = conditions.map((r) => `${quoteCql(r.column.name)} ${r.op} ?`);
  return { text: ` IF ${parts.join(' AND ')}`, params: conditions.map((r) => r.value) };
}

/** Refuses conditions where Cassandra cannot check them: on counter tables and beyond one row. */
export function checkConditions(
  conditions: readonly Restriction[],
  table: Table,
  singleRow: boolean,
  sqlName: string,
): void {
  if (conditions.length === 0) return;
  const names = conditions.map((r) => `"${r.column.name}"`).join(', ');
  if (isCounterTable(table))
    throw unsupported(
      `${sqlName}: a condition on ${names} of a counter table`,
      'Cassandra checks no conditions on counter tables; write by primary key only',
    );
  if (!singleRow)
    throw unsupported(
      `${sqlName}: a write that filters on ${names}, which is not a key column, over more than one row`,
      'Cassandra checks conditions on one row: name it by its whole primary key with =',
    );
}

/** `SET c = c + n` (or `c - n`, `n + c`) on a counter column: `"c" = "c" + ?` and n as a bigint. */
export function counterSet(
  target: Node,
  column: Column,
  values: Values,
  tableNames: readonly string[],
): { text: string; value: unknown } {
  const refuse = () =>
    unsupported(
      `SET ${column.name} to a value: "${column.name}" is a counter`,
      `add to it or subtract from it: SET ${column.name} = ${column.name} + n`,
    );
  const expr = bodyOf(target.val, 'A_Expr');
  const op = expr ? names(expr.name).join('') : '';
  if (!expr || expr.kind !== 'AEXPR_OP' || (op !== '+' && op !== '-')) throw refuse();
  const left = columnName(expr.lexpr as Node, tableNames) === column.name;
  const right = op === '+' && columnName(expr.rexpr as Node, tableNames) === column.name;
  if (!left && !right) throw refuse();
  const text = values.textOf((left ? expr.rexpr : expr.lexpr) as Node, oids.int8);
  if (text === null)
    throw unsupported(`adding NULL to counter "${column.name}"`, 'add a number (0 leaves it as it is)');
  const value = text === undefined ? undefined : toDriver(text, column.type);
  return { text: `${quoteCql(column.name)} = ${quoteCql(column.name)} ${op} ?`, value };
}
