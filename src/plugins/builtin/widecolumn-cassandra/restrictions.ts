// WHERE clauses as restrictions on a table's columns, checked against what Cassandra serves without a scan.
import type { Column, Table } from './catalog.js';
import { oids, pgTypeOf } from './cql-types.js';
import { unsupported, undefinedColumn } from './errors.js';
import { bodyOf, columnName, kindOf, listOf, names, quoteCql, type Node, type Values } from './sql-ast.js';
import { toDriver } from './values.js';

export type Operator = '=' | 'IN' | '<' | '<=' | '>' | '>=';

export interface Restriction {
  readonly column: Column;
  readonly op: Operator;
  /** The driver value (an array for IN, nulls removed); undefined while describing. */
  readonly value: unknown;
  /** `= NULL`, or IN with only nulls: matches no row, as in PostgreSQL. */
  readonly matchesNothing: boolean;
}

const flipped: Record<string, Operator> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** Reads `a = 1 AND b IN (...) AND c >= $1` into restrictions; anything else is refused. */
export function readWhere(
  where: unknown,
  table: Table,
  tableNames: readonly string[],
  values: Values,
): Restriction[] {
  if (!where) return [];
  const bool = bodyOf(where, 'BoolExpr');
  if (bool) {
    if (bool.boolop !== 'AND_EXPR')
      throw unsupported(
        `${String(bool.boolop).replace('_EXPR', '')} in WHERE`,
        'Cassandra reads by key: combine restrictions with AND only (use IN for several values of a key)',
      );
    return listOf(bool.args).flatMap((arg) => readWhere(arg, table, tableNames, values));
  }
  const expr = bodyOf(where, 'A_Expr');
  if (!expr)
    throw unsupported(`${kindOf(where)} in WHERE`, 'restrict key columns with =, IN, <, <=, > or >=');
  const op = names(expr.name).join('.');
  let column = columnName(expr.lexpr as Node, tableNames);
  let valueNode = expr.rexpr as Node;
  let operator: Operator | undefined = expr.kind === 'AEXPR_IN' && op === '=' ? 'IN' : undefined;
  if (expr.kind === 'AEXPR_OP') {
    if (column === undefined) {
      column = columnName(expr.rexpr as Node, tableNames);
      valueNode = expr.lexpr as Node;
      operator = flipped[op];
    } else operator = op in flipped ? (op as Operator) : undefined;
  }
  if (column === undefined || operator === undefined)
    throw unsupported(
      `the condition ${op || String(expr.kind)} here`,
      'restrict key columns with column = value, IN (...), <, <=, > or >=',
    );
  const target = table.byName.get(column);
  if (!target) throw undefinedColumn(column, table.name);
  if (operator === 'IN') {
    const texts = listOf(bodyOf(valueNode, 'List')?.items).map((item) =>
      values.textOf(item, oids[pgTypeOf(target.type)]),
    );
    if (values.describing) return [{ column: target, op: 'IN', value: undefined, matchesNothing: false }];
    const present = texts.filter((text): text is string => typeof text === 'string');
    const value = present.map((text) => toDriver(text, target.type));
    return [{ column: target, op: 'IN', value, matchesNothing: value.length === 0 }];
  }
  const text = values.textOf(valueNode, oids[pgTypeOf(target.type)]);
  const value = text === undefined ? undefined : toDriver(text, target.type);
  return [{ column: target, op: operator, value, matchesNothing: text === null }];
}

const isEquality = (r: Restriction) => r.op === '=' || r.op === 'IN';

export interface KeyPath {
  /** Clustering columns restricted by = or IN, in order (ORDER BY may skip them). */
  readonly fixedClustering: number;
  /** The statement restricts every primary key column by = (one row). */
  readonly singleRow: boolean;
}

/**
 * Checks that the restrictions name partitions and a clustering slice Cassandra reads directly; a read that
 * would scan (or need ALLOW FILTERING) is refused with the key it needs, unless the table allows filtering.
 */
export function checkKeyPath(
  restrictions: readonly Restriction[],
  table: Table,
  sqlName: string,
  purpose: 'read' | 'write',
): KeyPath {
  const on = (column: Column) => restrictions.filter((r) => r.column === column);
  const filtering = purpose === 'read' && table.allowFiltering;
  const refuse = (what: string) =>
    unsupported(
      what,
      purpose === 'read'
        ? `without it Cassandra would scan the table (ALLOW FILTERING); list "${table.name}" in plugins.widecolumn.allow_filtering to allow such reads`
        : 'Cassandra writes by primary key',
    );
  const partitionNames = table.partitionKey.map((c) => c.name).join(', ');
  for (const column of table.partitionKey) {
    const found = on(column);
    if (found.length > 1)
      throw refuse(`${sqlName}: partition key column "${column.name}" is restricted more than once`);
    if ((found.length === 0 || !isEquality(found[0])) && !filtering)
      throw refuse(
        `${sqlName} needs its partition key (${partitionNames}) restricted by = or IN; "${column.name}" is ${found.length ? 'restricted by a range' : 'not restricted'}`,
      );
  }
  let fixed = 0;
  let open: Column | undefined;
  for (const column of table.clustering) {
    const found = on(column);
    if (found.length === 0) {
      open ??= column;
      continue;
    }
    if (open && !filtering)
      throw refuse(
        `${sqlName}: restricting clustering column "${column.name}" needs "${open.name}" restricted by = or IN first`,
      );
    if (found.some(isEquality)) {
      if (found.length > 1)
        throw refuse(`${sqlName}: clustering column "${column.name}" is restricted by = and more`);
      fixed++;
    } else open = column;
  }
  for (const r of restrictions) {
    if ((r.column.kind === 'regular' || r.column.kind === 'static') && !filtering)
      throw refuse(`${sqlName}: filtering on "${r.column.name}", which is not a key column,`);
  }
  const singleRow =
    [...table.partitionKey, ...table.clustering].every((c) => on(c).some((r) => r.op === '=')) &&
    restrictions.every((r) => r.op === '=' && r.column.kind !== 'regular' && r.column.kind !== 'static');
  return { fixedClustering: fixed, singleRow };
}

export const matchesNothing = (restrictions: readonly Restriction[]) =>
  restrictions.some((r) => r.matchesNothing);

/** ` WHERE "a" = ? AND "b" IN ?` and the values bound to it. */
export function whereCql(restrictions: readonly Restriction[]): { text: string; params: unknown[] } {
  if (restrictions.length === 0) return { text: '', params: [] };
  const parts = restrictions.map((r) => `${quoteCql(r.column.name)} ${r.op} ?`);
  return { text: ` WHERE ${parts.join(' AND ')}`, params: restrictions.map((r) => r.value) };
}
