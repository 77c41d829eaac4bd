// SELECT on one Cassandra table as CQL: key restrictions, clustering order, LIMIT, and aggregates within partitions.
import type { ResultColumn } from '../../api.js';
import { divideNumeric } from '../documents-mongodb/numeric-division.js';
import type { Column, Table } from './catalog.js';
import { isCollection, oids, pgTypeOf, type CqlType, type PgType } from './cql-types.js';
import { pluginError, unsupported, undefinedColumn } from './errors.js';
import type { OutputColumn, Plan } from './plans.js';
import {
  checkKeyPath,
  matchesNothing,
  readWhere,
  whereCql,
  type KeyPath,
  type Restriction,
} from './restrictions.js';
import { bodyOf, columnName, kindOf, listOf, names, quoteCql, type Node, type Values } from './sql-ast.js';
import { toText } from './values.js';

const varint: CqlType = { name: 'varint', args: [] };
const bigintType: CqlType = { name: 'bigint', args: [] };
const integerTypes = new Set(['tinyint', 'smallint', 'int', 'bigint', 'varint']);

interface Selectors {
  readonly list: string[];
  /** Adds a selector (once) and returns its position in result rows. */
  add(selector: string): number;
}

function selectors(): Selectors {
  const list: string[] = [];
  return {
    list,
    add(selector) {
      const at = list.indexOf(selector);
      if (at >= 0) return at;
      list.push(selector);
      return list.length - 1;
    },
  };
}

export function planSelect(
  body: Node,
  table: Table,
  sqlName: string,
  tableNames: string[],
  values: Values,
): Plan {
  for (const [key, what] of [
    ['distinctClause', 'DISTINCT'],
    ['havingClause', 'HAVING'],
    ['windowClause', 'WINDOW'],
    ['withClause', 'WITH'],
    ['lockingClause', 'FOR UPDATE/SHARE'],
    ['intoClause', 'SELECT INTO'],
  ] as const)
    if (body[key])
      throw unsupported(`${what} on ${sqlName}`, 'read rows by key and combine them in the application');
  if (body.limitOffset) {
    const offset = values.textOf(body.limitOffset as Node);
    if (offset !== undefined && offset !== null && Number(offset) !== 0)
      throw unsupported(
        'OFFSET',
        'Cassandra pages by clustering key: restrict the clustering column from the last row seen',
      );
  }
  const restrictions = readWhere(body.whereClause, table, tableNames, values);
  const shape = shapeOf(body, table, sqlName, tableNames, restrictions);
  const params = restrictions.map((r) => r.value);
  let cql = shape.head;
  let empty = matchesNothing(restrictions);
  if (body.limitCount) {
    const limit = values.textOf(body.limitCount as Node, oids.int8);
    if (limit !== null) {
      if (limit !== undefined && !/^\d+$/.test(limit.trim()))
        throw pluginError('invalidTextRepresentation', `invalid input syntax for type bigint: "${limit}"`);
      if (limit !== undefined && Number(limit) === 0) empty = true;
      cql += ' LIMIT ?';
      params.push(limit === undefined ? undefined : Number(limit));
    }
  }
  if (table.allowFiltering) cql += ' ALLOW FILTERING';
  const { columns, resultColumns, aggregate, emptyRow } = shape;
  return { kind: 'select', statement: { cql, params }, columns, resultColumns, aggregate, empty, emptyRow };
}

/** A SELECT apart from its values: the same for every execution of a prepared statement on one table definition. */
interface Shape {
  readonly table: Table;
  /** The CQL up to ORDER BY; LIMIT and ALLOW FILTERING follow. */
  readonly head: string;
  readonly columns: readonly OutputColumn[];
  readonly resultColumns: readonly ResultColumn[];
  /** Without GROUP BY an aggregate answers one row even when nothing matched; grouped, no rows means no groups. */
  readonly aggregate: boolean;
  readonly emptyRow: readonly unknown[];
}

/** Keyed by the statement's SelectStmt node: the restrictions' columns and operators come from it, never from values. */
const shapes = new WeakMap<Node, Shape>();

function shapeOf(
  body: Node,
  table: Table,
  sqlName: string,
  tableNames: string[],
  restrictions: readonly Restriction[],
): Shape {
  const cached = shapes.get(body);
  if (cached?.table === table) return cached;
  const path = checkKeyPath(restrictions, table, sqlName, 'read');
  const sel = selectors();
  const targets = listOf(body.targetList).map((node) => bodyOf(node, 'ResTarget')!);
  const groups = groupBy(body.groupClause, table, tableNames, sqlName);
  const aggregate = groups !== undefined || targets.some((target) => kindOf(target.val) === 'FuncCall');
  const columns = targets.flatMap((target) =>
    outputColumns(target, table, tableNames, sel, aggregate ? (groups ?? []) : undefined),
  );
  const order = orderBy(body.sortClause, table, tableNames, path, restrictions, sqlName);
  if (order && aggregate && !groups)
    throw unsupported('ORDER BY with aggregates', 'leave out ORDER BY (one row is returned)');
  let head = `SELECT ${sel.list.join(', ')} FROM ${quoteCql(table.keyspace)}.${quoteCql(table.name)}${whereCql(restrictions).text}`;
  if (groups) head += ` GROUP BY ${groups.map((c) => quoteCql(c.name)).join(', ')}`;
  if (order) head += ` ORDER BY ${order}`;
  const emptyRow = sel.list.map((selector) => (selector.startsWith('count(') ? 0 : null));
  const resultColumns = columns.map((c) => ({ name: c.name, typeOid: oids[c.type], typeModifier: -1 }));
  const shape = { table, head, columns, resultColumns, aggregate: aggregate && !groups, emptyRow };
  shapes.set(body, shape);
  return shape;
}

function plainColumn(column: Column, name: string, sel: Selectors): OutputColumn {
  const at = sel.add(quoteCql(column.name));
  return { name, type: pgTypeOf(column.type), read: (row) => toText(row[at], column.type) };
}

function outputColumns(
  target: Node,
  table: Table,
  tableNames: string[],
  sel: Selectors,
  /** Set when the statement aggregates: the grouped columns (empty without GROUP BY). */
  grouped: readonly Column[] | undefined,
): OutputColumn[] {
  const ungrouped = (name: string) =>
    pluginError(
      'groupingError',
      `column "${name}" must appear in the GROUP BY clause or be used in an aggregate function`,
    );
  const val = target.val as Node;
  const alias = typeof target.name === 'string' ? target.name : undefined;
  const ref = bodyOf(val, 'ColumnRef');
  if (ref) {
    const fields = listOf(ref.fields);
    if (kindOf(fields[fields.length - 1]) === 'A_Star') {
      const missing = grouped && table.columns.find((column) => !grouped.includes(column));
      if (missing) throw ungrouped(missing.name);
      return table.columns.map((column) => plainColumn(column, column.name, sel));
    }
    const name = columnName(val, tableNames);
    const column = name === undefined ? undefined : table.byName.get(name);
    if (!column) throw undefinedColumn(names(ref.fields).join('.'), table.name);
    if (grouped && !grouped.includes(column)) throw ungrouped(column.name);
    return [plainColumn(column, alias ?? column.name, sel)];
  }
  const call = bodyOf(val, 'FuncCall');
  if (call) return [aggregateColumn(call, alias, table, tableNames, sel)];
  throw unsupported(
    `the select-list expression ${kindOf(val)}`,
    'select columns or count/min/max/sum/avg of a column',
  );
}

function aggregateColumn(
  call: Node,
  alias: string | undefined,
  table: Table,
  tableNames: string[],
  sel: Selectors,
): OutputColumn {
  const fn = names(call.funcname)
    .filter((part) => part !== 'pg_catalog')
    .join('.');
  const name = alias ?? fn;
  if (call.agg_distinct || call.agg_filter || call.over || listOf(call.agg_order).length)
    throw unsupported(`${fn}(DISTINCT/FILTER/ORDER BY/OVER)`, 'use the plain aggregate');
  if (fn === 'count' && call.agg_star) {
    const at = sel.add('count(*)');
    return { name, type: 'int8', read: (row) => toText(row[at], bigintType) };
  }
  const args = listOf(call.args);
  const columnArg = args.length === 1 ? columnName(args[0], tableNames) : undefined;
  const column = columnArg === undefined ? undefined : table.byName.get(columnArg);
  if (!['count', 'min', 'max', 'sum', 'avg'].includes(fn))
    throw unsupported(
      `the function ${fn}() on a Cassandra table`,
      'Cassandra aggregates with count, min, max, sum and avg',
    );
  if (!column) {
    if (columnArg !== undefined) throw undefinedColumn(columnArg, table.name);
    throw unsupported(`${fn}() of an expression`, `aggregate a column: ${fn}(column)`);
  }
  const quoted = quoteCql(column.name);
  const type = column.type;
  if (fn === 'count') {
    const at = sel.add(`count(${quoted})`);
    return { name, type: 'int8', read: (row) => toText(row[at], bigintType) };
  }
  if (
    isCollection(type) ||
    ['blob', 'boolean', 'inet', 'duration'].includes(type.name) ||
    ((fn === 'sum' || fn === 'avg') && !isNumeric(type))
  )
    throw unsupported(`${fn}() of a ${type.name} column`, 'aggregate numeric columns');
  if (fn === 'min' || fn === 'max') {
    const at = sel.add(`${fn}(${quoted})`);
    return { name, type: pgTypeOf(type), read: (row) => toText(row[at], type) };
  }
  // Cassandra sums without rows to 0 and adds integers in the column's own width: sum exactly, null when empty.
  const count = sel.add(`count(${quoted})`);
  const whenRows = (row: readonly unknown[], text: () => string | null) =>
    Number(row[count]?.toString() ?? 0) === 0 ? null : text();
  const integer = integerTypes.has(type.name);
  const sum = sel.add(integer ? `sum(cast(${quoted} as varint))` : `sum(${quoted})`);
  const sumType: CqlType = integer ? varint : type;
  if (fn === 'sum') {
    const pgType: PgType = integer
      ? ['bigint', 'varint'].includes(type.name)
        ? 'numeric'
        : 'int8'
      : pgTypeOf(type);
    return { name, type: pgType, read: (row) => whenRows(row, () => toText(row[sum], sumType)) };
  }
  if (type.name === 'double' || type.name === 'float')
    return {
      name,
      type: 'float8',
      read: (row) =>
        whenRows(row, () =>
          toText(Number(row[sum]) / Number(row[count]!.toString()), { name: 'double', args: [] }),
        ),
    };
  return {
    name,
    type: 'numeric',
    read: (row) =>
      whenRows(row, () => divideNumeric(toText(row[sum], sumType)!, BigInt(row[count]!.toString()))),
  };
}

const isNumeric = (type: CqlType) =>
  integerTypes.has(type.name) || ['decimal', 'float', 'double', 'counter'].includes(type.name);

/** ORDER BY clustering columns in their stored order or all reversed; equality-restricted ones may be skipped. */
function orderBy(
  sortClause: unknown,
  table: Table,
  tableNames: string[],
  path: KeyPath,
  restrictions: readonly Restriction[],
  sqlName: string,
): string | undefined {
  const items = listOf(sortClause).map((node) => bodyOf(node, 'SortBy')!);
  if (items.length === 0) return undefined;
  const wanted = items.map((item) => {
    const name = columnName(item.node as Node, tableNames);
    const column = name === undefined ? undefined : table.byName.get(name);
    if (!column || column.kind !== 'clustering')
      throw unsupported(
        `ORDER BY ${name ?? 'an expression'} on ${sqlName}`,
        `Cassandra returns rows of a partition in clustering order: order by ${table.clustering.map((c) => c.name).join(', ') || '(no clustering columns)'}`,
      );
    return { column, descending: item.sortby_dir === 'SORTBY_DESC' };
  });
  const partitionIn = restrictions.some((r) => r.column.kind === 'partition_key' && r.op === 'IN');
  if (partitionIn)
    throw unsupported(
      `ORDER BY with IN on the partition key of ${sqlName}`,
      'read one partition per statement to get its rows in order',
    );
  const reversed = wanted[0].column.descending !== wanted[0].descending;
  const start = table.clustering.indexOf(wanted[0].column);
  const matches =
    start <= path.fixedClustering &&
    wanted.every(
      (w, i) =>
        table.clustering[start + i] === w.column && (w.column.descending !== w.descending) === reversed,
    );
  if (!matches)
    throw unsupported(
      `this ORDER BY on ${sqlName}`,
      `Cassandra orders by the clustering columns (${table.clustering.map((c) => `${c.name}${c.descending ? ' DESC' : ''}`).join(', ')}) in that order, or all reversed`,
    );
  const through = start + wanted.length;
  return table.clustering
    .slice(0, through)
    .map((c) => `${quoteCql(c.name)} ${c.descending !== reversed ? 'DESC' : 'ASC'}`)
    .join(', ');
}

/** GROUP BY columns must be the partition key and then clustering columns in key order, as CQL requires. */
function groupBy(
  groupClause: unknown,
  table: Table,
  tableNames: string[],
  sqlName: string,
): Column[] | undefined {
  const items = listOf(groupClause);
  if (items.length === 0) return undefined;
  const key = [...table.partitionKey, ...table.clustering];
  const columns = items.map((item) => {
    const name = columnName(item, tableNames);
    const column = name === undefined ? undefined : table.byName.get(name);
    if (name !== undefined && !column) throw undefinedColumn(name, table.name);
    return column;
  });
  const inKeyOrder = columns.every((column, i) => column !== undefined && column === key[i]);
  if (!inKeyOrder || columns.length < table.partitionKey.length)
    throw unsupported(
      `this GROUP BY on ${sqlName}`,
      `Cassandra groups by a prefix of the primary key (${key.map((c) => c.name).join(', ')}), starting with the whole partition key`,
    );
  return columns as Column[];
}
