// The coordinator's mirror as SQL: partition bounds exactly as the shard map places rows, and the relations
// it cannot mirror left out with a reason.
import { describe, expect, it } from 'vitest';
import type { CatalogRelation, CatalogSnapshot } from '../../../../src/backend/coordinator/catalog.js';
import { layoutOf } from '../../../../src/backend/coordinator/layout.js';
import type { ShardingConfig } from '../../../../src/config/schema.js';

const table = (name: string, kind: string, columns: [string, string][]): CatalogRelation => ({
  schema: 'public',
  name,
  kind,
  columns: columns.map(([n, type]) => ({ name: n, type, notNull: false, collation: null })),
  definition: kind === 'v' ? ' SELECT 1;' : null,
});

const catalog = (relations: CatalogRelation[], enums: CatalogSnapshot['enums'] = []): CatalogSnapshot => ({
  relations,
  enums,
  locale: { encoding: 'UTF8', collate: 'C', ctype: 'C' },
  key: '',
});

const sharding = (tables: ShardingConfig['tables']): ShardingConfig =>
  ({ tables, reference: ['nation'], default_shard: 1, algorithm: 'hash' }) as ShardingConfig;

describe('layoutOf', () => {
  it('creates enum types, labels in their order, in schemas of their own too', () => {
    const l = layoutOf(
      catalog(
        [
          table('orders', 'r', [
            ['id', 'bigint'],
            ['mood', 'public.mood'],
          ]),
        ],
        [
          { schema: 'public', name: 'mood', labels: ['sad', "it's ok", 'happy'] },
          { schema: 'kinds', name: 'Color', labels: ['red'] },
        ],
      ),
      sharding({ orders: 'id' }),
      2,
      new Set(),
    );
    expect(l.schemas).toEqual([
      'CREATE SCHEMA IF NOT EXISTS "public"',
      'CREATE SCHEMA IF NOT EXISTS "kinds"',
    ]);
    expect(l.enums).toEqual([
      `CREATE TYPE "public"."mood" AS ENUM ('sad', 'it''s ok', 'happy')`,
      `CREATE TYPE "kinds"."Color" AS ENUM ('red')`,
    ]);
  });

  it('partitions a hash table by modulus and remainder, one foreign partition per shard', () => {
    const l = layoutOf(
      catalog([
        table('orders', 'r', [
          ['id', 'bigint'],
          ['note', 'text'],
        ]),
      ]),
      sharding({ orders: 'id' }),
      3,
      new Set(),
    );
    const sql = l.relations.get('public.orders')!;
    expect(sql[0]).toBe('CREATE TABLE "public"."orders" ("id" bigint, "note" text) PARTITION BY HASH ("id")');
    expect(sql.slice(1)).toEqual(
      [0, 1, 2].map(
        (i) =>
          `CREATE FOREIGN TABLE "polyproxy_coordinator"."public.orders.${i}" PARTITION OF "public"."orders" FOR VALUES WITH (MODULUS 3, REMAINDER ${i}) SERVER polyproxy_shard_${i} OPTIONS (schema_name 'public', table_name 'orders')`,
      ),
    );
  });

  it('gives range and list tables their configured bounds, and other tables the default shard', () => {
    const l = layoutOf(
      catalog([
        table('events', 'r', [['day', 'integer']]),
        table('tenants', 'r', [['region', 'text']]),
        table('nation', 'r', [['n', 'integer']]),
        table('notes', 'r', [['n', 'integer']]),
      ]),
      sharding({
        events: {
          column: 'day',
          algorithm: 'range',
          ranges: [
            { shard: 0, to: 10 },
            { shard: 1, from: 10 },
          ],
        },
        tenants: { column: 'region', algorithm: 'list', lists: [{ shard: 1, values: ['eu', "o'k"] }] },
      }),
      2,
      new Set(),
    );
    expect(
      l.relations
        .get('public.events')!
        .slice(1)
        .map((s) => /FOR VALUES (.*) SERVER/.exec(s)![1]),
    ).toEqual(['FROM (MINVALUE) TO (10)', 'FROM (10) TO (MAXVALUE)']);
    expect(l.relations.get('public.tenants')!.slice(1)).toHaveLength(1);
    expect(l.relations.get('public.tenants')![1]).toContain(
      "FOR VALUES IN ('eu', 'o''k') SERVER polyproxy_shard_1",
    );
    for (const t of ['nation', 'notes'])
      expect(l.relations.get(`public.${t}`)).toEqual([
        `CREATE FOREIGN TABLE "public"."${t}" ("n" integer) SERVER polyproxy_shard_1 OPTIONS (schema_name 'public', table_name '${t}')`,
      ]);
  });

  it('leaves out what it cannot mirror exactly, saying why', () => {
    const l = layoutOf(
      catalog([
        table('byday', 'r', [['d', 'timestamp with time zone']]),
        table('twice', 'r', [['k', 'integer']]),
        table('mv', 'm', [['k', 'integer']]),
        table('v', 'v', []),
      ]),
      sharding({
        byday: 'd',
        twice: {
          column: 'k',
          algorithm: 'range',
          ranges: [
            { shard: 0, to: 5 },
            { shard: 1, from: 5, to: 9 },
            { shard: 0, from: 9 },
          ],
        },
      }),
      2,
      new Set(['mv']),
    );
    expect([...l.skipped.keys()].sort()).toEqual(['byday', 'mv', 'twice']);
    expect(l.skipped.get('byday')).toContain('timestamp with time zone');
    expect(l.skipped.get('twice')).toContain('more than one of its ranges');
    expect(l.views).toEqual([{ name: 'v', sql: 'CREATE VIEW "public"."v" AS  SELECT 1;' }]);
  });

  it('holds the reference tables it is told to copy as local tables, with foreign tables to refresh them from', () => {
    const l = layoutOf(
      catalog([table('nation', 'r', [['n', 'integer']])]),
      sharding({}),
      2,
      new Set(),
      new Set(['public.nation']),
    );
    expect(l.relations.get('public.nation')).toEqual([
      `CREATE FOREIGN TABLE "polyproxy_coordinator"."public.nation.remote" ("n" integer) SERVER polyproxy_shard_1 OPTIONS (schema_name 'public', table_name 'nation')`,
      `CREATE FOREIGN TABLE "polyproxy_coordinator"."public.nation.xmin" (x xid OPTIONS (column_name 'xmin')) SERVER polyproxy_shard_1 OPTIONS (schema_name 'public', table_name 'nation')`,
      'CREATE TABLE "public"."nation" ("n" integer)',
    ]);
    expect(l.copies.map((c) => c.key)).toEqual(['public.nation']);
  });
});
