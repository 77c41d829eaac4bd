// Test-only: translates SQL text through the mysql plugin's Translator against a hand-written catalog of `items` and `orders`.
import type { TableColumn, TableInfo } from '../../../../src/plugins/builtin/mysql/catalog.js';
import { dialectFor } from '../../../../src/plugins/builtin/mysql/handler.js';
import { mapColumnType } from '../../../../src/plugins/builtin/mysql/pg-types.js';
import { render } from '../../../../src/plugins/builtin/mysql/fragments.js';
import { Translator, type Plan } from '../../../../src/plugins/builtin/mysql/statements.js';
import type { Node } from '../../../../src/plugins/builtin/mysql/ast.js';
import { parseSql } from '../../../../src/sql/parser.js';

function column(
  name: string,
  columnType: string,
  opts: { nullable?: boolean; autoIncrement?: boolean; precision?: number; scale?: number } = {},
): TableColumn {
  const dataType = /^\w+/.exec(columnType)![0];
  const text = /char|text|enum|set/.test(dataType);
  return {
    name,
    mapped: mapColumnType({
      dataType,
      columnType,
      precision: opts.precision ?? null,
      scale: opts.scale ?? null,
    }),
    columnType,
    nullable: opts.nullable ?? true,
    autoIncrement: opts.autoIncrement ?? false,
    charset: text ? 'utf8mb4' : null,
  };
}

/** As information_schema describes the integration test's `items`, plus an `orders` table keyed by a composite key. */
export const catalog = new Map<string, TableInfo>([
  [
    'items',
    {
      name: 'items',
      columns: [
        column('id', 'int(11)', { nullable: false, autoIncrement: true }),
        column('name', 'varchar(40)', { nullable: false }),
        column('qty', 'int(11)'),
        column('price', 'decimal(10,2)', { precision: 10, scale: 2 }),
        column('active', 'tinyint(1)'),
        column('created', 'datetime(6)'),
        column('big', 'bigint(20)'),
        column('ratio', 'double'),
        column('day', 'date'),
        column('note', 'text'),
        column('stock', 'int(10) unsigned'),
      ],
      primaryKey: ['id'],
      uniqueKeys: [['id'], ['name']],
    },
  ],
  [
    'tags',
    {
      name: 'tags',
      columns: [column('tag', 'varchar(20)', { nullable: false }), column('uses', 'int(11)')],
      primaryKey: ['tag'],
      uniqueKeys: [['tag']],
    },
  ],
  [
    'orders',
    {
      name: 'orders',
      columns: [
        column('item_id', 'int(11)', { nullable: false }),
        column('line', 'int(11)', { nullable: false }),
        column('amount', 'decimal(10,2)', { precision: 10, scale: 2 }),
      ],
      primaryKey: ['item_id', 'line'],
      uniqueKeys: [['item_id', 'line']],
    },
  ],
]);

/** Callers must have awaited loadParser(). */
export function plan(sql: string, dialect = dialectFor('10.11.6-MariaDB')): Plan {
  const parsed = parseSql(sql);
  if (!parsed.ok) throw new Error(parsed.error);
  return new Translator('legacy', 'shop', catalog, dialect).plan(parsed.statements[0] as Node);
}

/** The MySQL text and what each `?` is bound to: `$n` or a literal, with the type context gave it. */
export function translate(
  sql: string,
  dialect?: ReturnType<typeof dialectFor>,
): { sql: string; bound: string[] } {
  const { sql: text, slots } = render(plan(sql, dialect).statement);
  return {
    sql: text,
    bound: slots.map(
      (slot) =>
        `${slot.param !== undefined ? `$${slot.param}` : JSON.stringify(slot.literal)}:${slot.type ?? 'text'}`,
    ),
  };
}
