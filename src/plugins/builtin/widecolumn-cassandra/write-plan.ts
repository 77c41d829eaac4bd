// INSERT, UPDATE and DELETE by primary key as CQL; counts as PostgreSQL reports them.
import type { Table } from './catalog.js';
import { oids, pgTypeOf } from './cql-types.js';
import { usingCql, type WriteOptions } from './directive.js';
import { pluginError, unsupported, undefinedColumn } from './errors.js';
import type { CqlStatement, Plan } from './plans.js';
import { checkKeyPath, matchesNothing, readWhere, whereCql } from './restrictions.js';
import { bodyOf, kindOf, listOf, quoteCql, type Node, type Values } from './sql-ast.js';
import { toDriver } from './values.js';
import {
  checkConditions,
  conditionsCql,
  counterSet,
  isCounterTable,
  splitConditions,
} from './write-conditions.js';

const tableCql = (table: Table) => `${quoteCql(table.keyspace)}.${quoteCql(table.name)}`;

function refuseExtras(body: Node, sqlName: string): void {
  if (listOf(body.returningList).length)
    throw unsupported(`RETURNING on ${sqlName}`, 'read the rows with a SELECT by key');
  if (body.withClause) throw unsupported(`WITH on ${sqlName}`, 'write with plain statements');
}

export function planInsert(
  body: Node,
  table: Table,
  sqlName: string,
  values: Values,
  options: WriteOptions,
): Plan {
  refuseExtras(body, sqlName);
  if (isCounterTable(table))
    throw unsupported(
      `INSERT into counter table ${sqlName}`,
      'a counter row is written by adding to it: UPDATE ... SET c = c + n WHERE <primary key>',
    );
  const conflict =
    bodyOf(body.onConflictClause, 'OnConflictClause') ?? (body.onConflictClause as Node | undefined);
  if (conflict && conflict.action !== 'ONCONFLICT_NOTHING')
    throw unsupported(
      `ON CONFLICT DO UPDATE on ${sqlName}`,
      'an INSERT into Cassandra replaces the row with the same primary key; ON CONFLICT DO NOTHING inserts only a new row',
    );
  // ON CONFLICT DO NOTHING is CQL's IF NOT EXISTS, a lightweight transaction per row.
  const conditional = Boolean(conflict) || options.ifNotExists;
  const select = bodyOf(body.selectStmt, 'SelectStmt');
  const rows = listOf(select?.valuesLists);
  if (!select || rows.length === 0 || listOf(select.targetList).length)
    throw unsupported(`INSERT ... SELECT or DEFAULT VALUES on ${sqlName}`, 'insert with VALUES');
  const named = listOf(body.cols).map((col) => String(bodyOf(col, 'ResTarget')?.name));
  const columns = (named.length ? named : table.columns.map((c) => c.name)).map((name) => {
    const column = table.byName.get(name);
    if (!column) throw undefinedColumn(name, table.name);
    return column;
  });
  const statements: CqlStatement[] = rows.map((row) => {
    const items = listOf(bodyOf(row, 'List')?.items);
    if (items.length !== columns.length)
      throw pluginError(
        'syntaxError',
        `INSERT has ${items.length > columns.length ? 'more expressions than target columns' : 'more target columns than expressions'}`,
      );
    const given = columns.flatMap((column, i) => {
      if (kindOf(items[i]) === 'SetToDefault') return [];
      const text = values.textOf(items[i], oids[pgTypeOf(column.type)]);
      return [
        {
          column,
          value: text === undefined ? undefined : toDriver(text, column.type),
          isNull: text === null,
        },
      ];
    });
    for (const key of [...table.partitionKey, ...table.clustering]) {
      const found = given.find((g) => g.column === key);
      if (!found || found.isNull)
        throw pluginError(
          'notNullViolation',
          `null value in column "${key.name}" of relation "${table.name}" violates not-null constraint`,
        );
    }
    const using = usingCql(options);
    const cql =
      `INSERT INTO ${tableCql(table)} (${given.map((g) => quoteCql(g.column.name)).join(', ')}) ` +
      `VALUES (${given.map(() => '?').join(', ')})${conditional ? ' IF NOT EXISTS' : ''}${using.text}`;
    return { cql, params: [...given.map((g) => g.value), ...using.params] };
  });
  return { kind: 'insert', statements, conditional };
}

export function planUpdate(
  body: Node,
  table: Table,
  sqlName: string,
  tableNames: string[],
  values: Values,
  options: WriteOptions,
): Plan {
  const counters = isCounterTable(table);
  if (options.timestamp !== undefined || options.ifNotExists || (counters && options.ttl !== undefined))
    throw unsupported(
      `timestamp=, if_not_exists${counters ? ' or ttl=' : ''} on an UPDATE of ${sqlName}`,
      counters
        ? 'Cassandra takes no TTL or timestamp on counters'
        : 'an UPDATE is a lightweight transaction (IF EXISTS), which takes only ttl=',
    );
  refuseExtras(body, sqlName);
  if (listOf(body.fromClause).length)
    throw unsupported(`UPDATE ... FROM on ${sqlName}`, 'update one table by primary key');
  const restrictions = readWhere(body.whereClause, table, tableNames, values);
  const { key, conditions } = splitConditions(restrictions);
  const path = checkKeyPath(key, table, sqlName, 'write');
  if (!path.singleRow) {
    const missing = [...table.partitionKey, ...table.clustering].find(
      (c) => !key.some((r) => r.column === c && r.op === '='),
    );
    throw unsupported(
      `UPDATE on ${sqlName} without "${missing?.name}" = value`,
      'an UPDATE names one row by its whole primary key with =',
    );
  }
  const sets = listOf(body.targetList).map((node) => {
    const target = bodyOf(node, 'ResTarget')!;
    const name = String(target.name);
    const column = table.byName.get(name);
    if (!column) throw undefinedColumn(name, table.name);
    if (listOf(target.indirection).length) throw unsupported(`SET ${name}[...]`, 'set the whole column');
    if (column.kind === 'partition_key' || column.kind === 'clustering')
      throw unsupported(
        `changing primary key column "${name}"`,
        'delete the row and insert it with the new key',
      );
    if (column.type.name === 'counter') return counterSet(target, column, values, tableNames);
    if (kindOf(target.val) === 'SetToDefault') return { text: `${quoteCql(name)} = ?`, value: null };
    const text = values.textOf(target.val as Node, oids[pgTypeOf(column.type)]);
    const value = text === undefined ? undefined : toDriver(text, column.type);
    return { text: `${quoteCql(name)} = ?`, value };
  });
  checkConditions(conditions, table, true, sqlName);
  const where = whereCql(key);
  // IF EXISTS: an UPDATE of a missing row changes nothing (Cassandra would create it) and reports UPDATE 0.
  // Conditions on other columns hold only for an existing row. A counter row is created by its first increment.
  const check = counters
    ? { text: '', params: [] }
    : conditions.length
      ? conditionsCql(conditions)
      : ifExists;
  const using = usingCql(options);
  const cql = `UPDATE ${tableCql(table)}${using.text} SET ${sets.map((s) => s.text).join(', ')}${where.text}${check.text}`;
  return {
    kind: 'update',
    count: null,
    statement: {
      cql,
      params: [...using.params, ...sets.map((s) => s.value), ...where.params, ...check.params],
    },
    conditional: !counters,
    empty: matchesNothing(restrictions),
  };
}

const ifExists = { text: ' IF EXISTS', params: [] };

export function planDelete(
  body: Node,
  table: Table,
  sqlName: string,
  tableNames: string[],
  values: Values,
): Plan {
  refuseExtras(body, sqlName);
  if (listOf(body.usingClause).length)
    throw unsupported(`DELETE ... USING on ${sqlName}`, 'delete by primary key');
  const restrictions = readWhere(body.whereClause, table, tableNames, values);
  const { key, conditions } = splitConditions(restrictions);
  const path = checkKeyPath(key, table, sqlName, 'write');
  checkConditions(conditions, table, path.singleRow, sqlName);
  const where = whereCql(key);
  // One row: a lightweight transaction says whether it was there (and matched); counter tables take none.
  const conditional = path.singleRow && !isCounterTable(table);
  const check = !conditional
    ? { text: '', params: [] }
    : conditions.length
      ? conditionsCql(conditions)
      : ifExists;
  const statement = {
    cql: `DELETE FROM ${tableCql(table)}${where.text}${check.text}`,
    params: [...where.params, ...check.params],
  };
  // A partition or a slice of one: counted first, as Cassandra's DELETE reports nothing.
  const count = conditional
    ? null
    : { cql: `SELECT count(*) FROM ${tableCql(table)}${where.text}`, params: where.params };
  return { kind: 'delete', count, statement, conditional, empty: matchesNothing(restrictions) };
}
