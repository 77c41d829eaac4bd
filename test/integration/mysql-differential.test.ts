// The mysql plugin against real MariaDB through a running polyproxy, each statement's result compared as text with the same SQL on PostgreSQL.
import mysql from 'mysql2/promise';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fe from '../../src/protocol/frontend-messages.js';
import { startMariaDb, type MariaDb } from '../../src/sandbox/mariadb.js';
import { errorFields, RawConnection } from './helpers/raw-client.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';

let maria: MariaDb;
let proxy: TestProxy;
let viaProxy: pg.Client;
let reference: pg.Client;

const textTypes = { getTypeParser: () => (value: string) => value };

type Outcome = { rows: (string | null)[][]; command: string } | { error: string; message: string };

async function outcome(client: pg.Client, sql: string, params: unknown[] = []): Promise<Outcome> {
  try {
    const result = await client.query({ text: sql, values: params, rowMode: 'array', types: textTypes });
    return { rows: result.rows as (string | null)[][], command: `${result.command} ${result.rowCount}` };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? '?', message: (err as Error).message };
  }
}

/** The same, rows compared in any order (RETURNING's order is PostgreSQL's scan order). */
async function expectSameRows(sql: string, params: unknown[] = []): Promise<void> {
  const sorted = (o: Outcome) =>
    'rows' in o ? { ...o, rows: o.rows.map((r) => JSON.stringify(r)).sort() } : { error: o.error };
  console.log(sql, JSON.stringify(await outcome(viaProxy, 'SELECT 1 FROM legacy.items WHERE false')));
  const expected = sorted(await outcome(reference, sql, params));
  expect(sorted(await outcome(viaProxy, sql, params)), sql).toEqual(expected);
}

/** Same rows as PostgreSQL, or refused with 0A000 by the proxy (a translation it cannot make faithful). */
async function expectSame(sql: string, params: unknown[] = []): Promise<'same' | 'refused'> {
  const expected = await outcome(reference, sql, params);
  const actual = await outcome(viaProxy, sql, params);
  if ('error' in actual && actual.error === '0A000' && !('error' in expected)) return 'refused';
  if ('error' in expected) expect('error' in actual ? actual.error : actual, sql).toBe(expected.error);
  else expect(actual, sql).toEqual(expected);
  return 'same';
}

const mysqlTable = `CREATE TABLE items (
  id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name varchar(40) COLLATE utf8mb4_nopad_bin NOT NULL,
  qty int NULL,
  price decimal(10,2) NULL,
  active tinyint(1) NULL,
  created datetime(6) NULL,
  big bigint NULL,
  ratio double NULL,
  day date NULL,
  note text NULL,
  doc json NULL,
  UNIQUE KEY items_name (name)
) DEFAULT CHARSET = utf8mb4`;

const pgTable = `CREATE TABLE legacy.items (
  id serial PRIMARY KEY,
  name varchar(40) COLLATE "C" NOT NULL UNIQUE,
  qty int,
  price numeric(10,2),
  active boolean,
  created timestamp(6),
  big bigint,
  ratio float8,
  day date,
  note text COLLATE "C",
  doc jsonb
)`;

const rows = [
  [
    'apple',
    3,
    '1.50',
    true,
    '2024-01-02 03:04:05.678',
    '9007199254740993',
    0.1,
    '2024-01-02',
    'red fruit',
    '{"b": 1, "a": [1, 2]}',
  ],
  ['Apple', 7, '2.25', false, '2024-02-03 00:00:00', '-5', 1e-7, '2024-02-03', 'Red', '{"color": "red"}'],
  ['banana', null, '0.99', true, null, null, 123456789012345680000, null, null, null],
  ['kiwi ', 12, null, null, '2023-12-31 23:59:59.5', '42', -2.5, '2023-12-31', 'trailing space', '[]'],
  ['cherry', 0, '10.00', false, '2024-03-01 12:00:00', '0', null, '2024-03-01', 'CHERRY', '{}'],
  ['date', 5, '3.30', null, null, '123', 3.14159, null, 'a%b_c', null],
  [
    'élan',
    2,
    '7.00',
    true,
    '2025-06-30 08:30:00.000001',
    '-9223372036854775808',
    1e21,
    '2025-06-30',
    'ÉLAN',
    '{"x": null}',
  ],
  ['fig', null, null, null, null, null, null, null, null, null],
  ['grape', 9, '4.40', true, '2024-01-02 03:04:05.678', '7', 0, '2024-01-02', 'grape%', '{"n": 1.50}'],
  ['honeydew', 1, '0.01', false, '2020-02-29 00:00:00', '1', -0.0001, '2020-02-29', '', '"s"'],
];

beforeAll(async () => {
  maria = await startMariaDb();
  const admin = await mysql.createConnection({ host: maria.host, port: maria.port, user: maria.user });
  await admin.query('CREATE DATABASE shop');
  await admin.query('USE shop');
  await admin.query(mysqlTable);
  for (const row of rows)
    await admin.execute(
      'INSERT INTO items (name, qty, price, active, created, big, ratio, day, note, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      row.map((v) => (typeof v === 'boolean' ? Number(v) : v)),
    );
  await admin.end();

  const setup = new pg.Client(directConfig('app'));
  await setup.connect();
  await setup.query('DROP DATABASE IF EXISTS mysql_reference');
  await setup.query('CREATE DATABASE mysql_reference');
  await setup.end();
  reference = new pg.Client(directConfig('mysql_reference'));
  await reference.connect();
  await reference.query("SET TimeZone = 'UTC'");
  await reference.query('CREATE SCHEMA legacy');
  await reference.query(pgTable);
  for (const row of rows)
    await reference.query(
      'INSERT INTO legacy.items (name, qty, price, active, created, big, ratio, day, note, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
      row,
    );

  proxy = await startTestProxy({
    pluginsYaml: [
      `  mysql:`,
      `    host: 127.0.0.1`,
      `    port: ${maria.port}`,
      `    user: root`,
      `    database: shop`,
      `    schema: legacy`,
    ].join('\n'),
  });
  viaProxy = new pg.Client(proxy.client());
  await viaProxy.connect();
});

afterAll(async () => {
  await viaProxy?.end();
  await reference?.end();
  await proxy?.close();
  await maria?.stop();
});

const predicates = [
  'true',
  'qty = 3',
  'qty <> 3',
  'qty > 2 AND price < 5',
  'qty IS NULL',
  'qty IS NOT NULL',
  "name = 'apple'",
  "name = 'APPLE'",
  "name <> 'apple'",
  "name = 'kiwi'",
  "name < 'banana'",
  "name LIKE 'a%'",
  "name LIKE '_pple'",
  "name ILIKE 'A%'",
  "name NOT ILIKE '%E%'",
  "note LIKE '%\\%%'",
  "name IN ('apple', 'fig', 'nope')",
  'qty NOT IN (3, 7)',
  'qty IN (3, NULL)',
  'qty NOT IN (3, NULL)',
  'price BETWEEN 1 AND 4.40',
  'price NOT BETWEEN 1 AND 4.40',
  'active',
  'NOT active',
  'active IS NOT TRUE',
  'active = false',
  "active = 't'",
  'active IS UNKNOWN',
  "created >= '2024-01-02 03:04:05.678'",
  "day < '2024-01-01'",
  'big > 100',
  'ratio < 0',
  'qty IS DISTINCT FROM 3',
  'qty IS NOT DISTINCT FROM NULL',
  "(qty > 2 OR note = '') AND NOT (price > 5)",
  'qty + 1 > 4',
  'qty * 2 = price * 2',
  "coalesce(note, 'none') = 'none'",
  "name || '!' = 'fig!'",
  'EXISTS (SELECT 1 FROM legacy.items i2 WHERE i2.qty > legacy_items_outer.qty)',
  'qty IN (SELECT qty FROM legacy.items WHERE price > 3)',
  'length(name) = 5',
  "lower(name) = 'apple'",
  "upper(note) LIKE 'RED%'",
];

const orders = [
  'name',
  'qty',
  'qty DESC',
  'qty NULLS FIRST, name',
  'price DESC NULLS LAST, name',
  'active, name',
];

describe('mysql plugin: differential against PostgreSQL', () => {
  it('answers filtered and ordered reads as PostgreSQL does', async () => {
    let same = 0;
    const refused: string[] = [];
    for (const predicate of predicates) {
      for (const order of orders) {
        const where = predicate.replace(/legacy_items_outer/g, 'o');
        const sql = `SELECT o.name, o.qty, o.price FROM legacy.items o WHERE ${where} ORDER BY ${order}, id`;
        if ((await expectSame(sql)) === 'same') same++;
        else refused.push(sql);
      }
    }
    expect(refused).toEqual([]);
    expect(same).toBe(predicates.length * orders.length);
  });

  it('writes every type in PostgreSQL text format', async () => {
    for (const sql of [
      'SELECT * FROM legacy.items ORDER BY id',
      'SELECT id, name AS n, qty AS "Quantity", price::numeric(6,1), big::numeric, qty::float8 FROM legacy.items ORDER BY 2',
      'SELECT count(*), count(qty), count(DISTINCT active), sum(qty), sum(price), sum(big), min(name), max(name), min(created), max(day) FROM legacy.items',
      'SELECT active, count(*) AS n, sum(price) FROM legacy.items GROUP BY active ORDER BY active',
      'SELECT active, count(*) FROM legacy.items GROUP BY 1 HAVING count(*) > 2 ORDER BY 2 DESC, 1',
      'SELECT DISTINCT active FROM legacy.items ORDER BY active DESC',
      'SELECT name, qty > 3 AS big_qty, qty IS NULL, -qty, qty - 1 FROM legacy.items ORDER BY name',
      "SELECT name, CASE WHEN qty > 5 THEN 'many' WHEN qty > 0 THEN 'some' ELSE 'none' END FROM legacy.items ORDER BY name",
      "SELECT name, concat(name, '-', qty, note) AS c, nullif(qty, 3) FROM legacy.items ORDER BY name",
      'SELECT name FROM legacy.items ORDER BY name LIMIT 3',
      'SELECT name FROM legacy.items ORDER BY name LIMIT 3 OFFSET 2',
      'SELECT name FROM legacy.items ORDER BY name OFFSET 8',
      'SELECT name FROM legacy.items ORDER BY name FETCH FIRST 2 ROWS ONLY',
      'SELECT a.name, b.name FROM legacy.items a JOIN legacy.items b ON a.qty = b.qty + 1 ORDER BY 1, 2',
      'SELECT a.name, b.name FROM legacy.items a LEFT JOIN legacy.items b ON a.qty = b.qty * 3 ORDER BY 1, 2',
      'SELECT name, (SELECT max(qty) FROM legacy.items) AS top FROM legacy.items ORDER BY name',
      'SELECT name, ratio, big FROM legacy.items ORDER BY ratio, name',
      'SELECT name, doc FROM legacy.items ORDER BY name',
      'SELECT name, created, day FROM legacy.items ORDER BY created DESC, name',
      'SELECT name FROM legacy.items ORDER BY note, name',
      'SELECT abs(big), abs(ratio) FROM legacy.items ORDER BY 1, 2',
    ])
      expect(await expectSame(sql), sql).toBe('same');
  });

  it('computes dates, intervals, integer division and averages as PostgreSQL does', async () => {
    for (const sql of [
      "SELECT name, created + interval '1 month' AS a, created - interval '1 day 02:00:00' AS b, day + 7 AS c, day - 1 AS d FROM legacy.items ORDER BY id",
      "SELECT name, day - date '2024-01-01' AS n, day + interval '1 month', interval '2 hours' + created FROM legacy.items ORDER BY id",
      "SELECT created + interval '1 year 2 mons 3 days 04:05:06.5', created - interval '3 weeks ago', created + interval '-1 month' FROM legacy.items ORDER BY id",
      "SELECT date_trunc('month', created), date_trunc('week', created), date_trunc('quarter', day), date_trunc('hour', created), date_trunc('year', day), date_trunc('second', created), date_trunc('day', created), date_trunc('minute', created) FROM legacy.items ORDER BY id",
      'SELECT extract(year from created), extract(month from day), extract(day from day), extract(dow from day), extract(isodow from created), extract(doy from day), extract(week from day), extract(isoyear from day), extract(quarter from created) FROM legacy.items ORDER BY id',
      'SELECT extract(hour from created), extract(minute from created), extract(second from created), extract(milliseconds from created), extract(microseconds from created), extract(epoch from created) FROM legacy.items ORDER BY id',
      "SELECT date_part('second', created), date_part('year', day), date_part('epoch', created) FROM legacy.items ORDER BY id",
      'SELECT name, qty / 2, qty % 3, -qty / 4, big / 3, big % 1000, ratio / 2, qty / ratio FROM legacy.items WHERE ratio <> 0 ORDER BY id',
      'SELECT qty / (qty - 3) FROM legacy.items',
      'SELECT qty % 0 FROM legacy.items',
      'SELECT ratio / 0 FROM legacy.items',
      'SELECT name FROM legacy.items WHERE qty / 2 = 1 OR qty % 4 = 3 ORDER BY name',
      "SELECT name FROM legacy.items WHERE created > now() - interval '100 years' AND day + 30 > date '2024-02-01' ORDER BY name",
      'SELECT avg(qty), avg(price), avg(big), avg(ratio), avg(DISTINCT qty), count(*) FROM legacy.items',
      'SELECT active, avg(qty) AS a, avg(price), sum(qty) FROM legacy.items GROUP BY active ORDER BY active',
      'SELECT avg(qty), avg(price) FROM legacy.items WHERE false',
      'SELECT avg(qty * 1000), avg(-price), avg(qty) FROM legacy.items WHERE qty > 1',
    ])
      expect(await expectSame(sql), sql).toBe('same');
    const cases: [string, unknown[]][] = [
      ['SELECT name FROM legacy.items WHERE day < $1::date + 1 ORDER BY name', ['2024-01-02']],
      ['SELECT name FROM legacy.items WHERE big = $1', ['9007199254740992']],
      ['SELECT name FROM legacy.items WHERE big = $1', ['9007199254740993']],
      ['SELECT name FROM legacy.items WHERE price = $1 ORDER BY name', ['1.50']],
      ['SELECT name FROM legacy.items WHERE price > $1 ORDER BY name', ['0.989999999999999999']],
      ['SELECT name FROM legacy.items WHERE qty / $1 = 1 ORDER BY name', [3]],
    ];
    for (const [sql, params] of cases) expect(await expectSame(sql, params), sql).toBe('same');
  });

  it('answers UNION, INTERSECT and EXCEPT as PostgreSQL does', async () => {
    for (const sql of [
      'SELECT name FROM legacy.items WHERE qty > 3 UNION SELECT name FROM legacy.items WHERE price < 2 ORDER BY name',
      'SELECT qty FROM legacy.items UNION ALL SELECT qty FROM legacy.items ORDER BY 1 DESC LIMIT 5',
      'SELECT qty FROM legacy.items UNION SELECT qty FROM legacy.items ORDER BY qty',
      'SELECT name FROM legacy.items INTERSECT SELECT name FROM legacy.items WHERE active ORDER BY name',
      'SELECT name FROM legacy.items EXCEPT SELECT name FROM legacy.items WHERE active ORDER BY 1',
      // ASCII only: upper() of é depends on the database's LC_CTYPE in PostgreSQL.
      "SELECT lower(name) AS n FROM legacy.items WHERE name <> 'élan' UNION SELECT upper(name) FROM legacy.items WHERE name <> 'élan' ORDER BY n",
      'SELECT note FROM legacy.items UNION SELECT note FROM legacy.items ORDER BY note DESC',
      'SELECT active FROM legacy.items EXCEPT ALL SELECT active FROM legacy.items WHERE qty > 3 ORDER BY 1',
      'SELECT qty FROM legacy.items INTERSECT ALL SELECT qty FROM legacy.items WHERE qty < 5 ORDER BY 1 OFFSET 1',
      "SELECT name, qty FROM legacy.items WHERE qty < 3 UNION ALL SELECT 'extra', 1 FROM legacy.items WHERE name = 'fig' ORDER BY 2, 1",
      'SELECT name FROM legacy.items WHERE qty = 3 UNION SELECT name FROM legacy.items WHERE qty = 7 UNION ALL SELECT name FROM legacy.items WHERE qty = 3 ORDER BY 1',
      'SELECT count(*) FROM legacy.items UNION ALL SELECT sum(qty) FROM legacy.items ORDER BY 1',
    ])
      expect(await expectSame(sql), sql).toBe('same');
  });

  it('binds parameters as MySQL placeholders (extended protocol)', async () => {
    const cases: [string, unknown[]][] = [
      ['SELECT name FROM legacy.items WHERE qty > $1 ORDER BY name', [3]],
      ['SELECT name FROM legacy.items WHERE name = $1', ["x' OR '1'='1"]],
      ['SELECT name FROM legacy.items WHERE name = $1', ['apple']],
      ['SELECT name FROM legacy.items WHERE active = $1 ORDER BY name', [true]],
      ['SELECT name FROM legacy.items WHERE price >= $1 AND price < $2 ORDER BY name', ['1.5', 4.4]],
      ['SELECT name FROM legacy.items WHERE created > $1 ORDER BY name', ['2024-01-01T00:00:00Z']],
      ['SELECT name FROM legacy.items ORDER BY name LIMIT $1 OFFSET $2', [2, 1]],
      ['SELECT name FROM legacy.items WHERE name ILIKE $1 ORDER BY name', ['%E%']],
      ['SELECT $1::int + qty AS s FROM legacy.items WHERE qty IS NOT NULL ORDER BY s', [10]],
    ];
    for (const [sql, params] of cases) expect(await expectSame(sql, params), sql).toBe('same');
  });

  it('refuses what it cannot translate faithfully with 0A000 naming it', async () => {
    for (const [sql, what] of [
      ['SELECT avg(qty) + 1 FROM legacy.items', 'avg() of integers or numeric inside an expression'],
      ['SELECT price / 2 FROM legacy.items', 'numeric division'],
      ["SELECT created - interval '1.5 months' FROM legacy.items", 'this interval'],
      ['SELECT created - created FROM legacy.items', 'operator - on timestamp and timestamp'],
      ["SELECT date_trunc('decade', created) FROM legacy.items", 'date_trunc() to decade'],
      ['SELECT name FROM legacy.items UNION SELECT qty FROM legacy.items', 'UNION of text and int4'],
      ['UPDATE legacy.items SET id = 5 WHERE false RETURNING id', 'changes the primary key'],
      ['SELECT row_number() OVER () FROM legacy.items', 'window functions'],
      ["SELECT name FROM legacy.items WHERE name ~ 'a'", 'operator ~'],
      ['SELECT DISTINCT ON (active) name FROM legacy.items', 'DISTINCT ON'],
      ['UPDATE legacy.items SET qty = 1, price = qty WHERE false', 'SET reading "qty"'],
      ['INSERT INTO legacy.items (name) VALUES ($$z$$) ON CONFLICT (name) DO NOTHING', 'several unique keys'],
      ['SELECT active || name FROM legacy.items', '||'],
      ['SELECT md5(name) FROM legacy.items', 'md5()'],
      // Two unique keys (id, name): MySQL's ON DUPLICATE KEY UPDATE would fire on either.
      [
        "INSERT INTO legacy.items (name) VALUES ('z') ON CONFLICT (name) DO UPDATE SET qty = 1",
        'several unique keys',
      ],
    ]) {
      const result = await outcome(viaProxy, sql);
      expect(result, sql).toMatchObject({ error: '0A000' });
      expect((result as { message: string }).message, sql).toContain(what);
    }
  });

  it('applies writes as PostgreSQL does, RETURNING included', async () => {
    const table = 'SELECT * FROM legacy.items ORDER BY id';
    const writes: [string, unknown[]][] = [
      ["INSERT INTO legacy.items (name, qty, price, active) VALUES ('lime', 4, 0.5, true)", []],
      [
        'INSERT INTO legacy.items (name, qty) VALUES ($1, $2), ($3, NULL) RETURNING id, name, qty',
        ['mango', 8, 'nut'],
      ],
      ["INSERT INTO legacy.items (id, name) VALUES (100, 'olive') RETURNING *", []],
      ["UPDATE legacy.items SET qty = qty + 1, note = 'upd' WHERE qty > 5", []],
      ['UPDATE legacy.items SET active = $1 WHERE name = $2', [false, 'lime']],
      ["UPDATE legacy.items SET price = DEFAULT WHERE name LIKE 'n%'", []],
      ['UPDATE legacy.items SET qty = 0 WHERE false', []],
      ["DELETE FROM legacy.items WHERE name IN ('nut', 'fig')", []],
      ['DELETE FROM legacy.items WHERE qty IS NULL AND price IS NULL', []],
      // Explicit ids: MySQL's AUTO_INCREMENT moved past the explicit 100 above, PostgreSQL's sequence did not.
      [
        "INSERT INTO legacy.items (id, name, qty) VALUES (110, 'apple', 1), (111, 'pear', 2) ON CONFLICT DO NOTHING",
        [],
      ],
      ["INSERT INTO legacy.items (id, name) VALUES (112, 'pear') ON CONFLICT DO NOTHING", []],
      ["INSERT INTO legacy.items (id, name) VALUES (111, 'plum') ON CONFLICT DO NOTHING", []],
      [
        "UPDATE legacy.items SET qty = qty * 2 WHERE qty > 4 AND name <> 'Apple' RETURNING id, name, qty, qty / 3 AS third",
        [],
      ],
      ['UPDATE legacy.items SET note = $1 WHERE id = $2 RETURNING note, id', ['via param', 1]],
      ["DELETE FROM legacy.items WHERE name LIKE 'p%' RETURNING *", []],
      ['DELETE FROM legacy.items WHERE false RETURNING id', []],
      ['UPDATE legacy.items SET qty = 1 WHERE id = -1 RETURNING id', []],
      [
        "INSERT INTO legacy.items (id, name) SELECT id + 200, name || '2' FROM legacy.items WHERE qty > 5 ON CONFLICT DO NOTHING",
        [],
      ],
      [
        'INSERT INTO legacy.items (id, name) SELECT id + 300, name FROM legacy.items WHERE qty > 5 ON CONFLICT DO NOTHING',
        [],
      ],
    ];
    for (const [sql, params] of writes) {
      await expectSameRows(sql, params);
      expect(await expectSame(table), `after ${sql}`).toBe('same');
    }
  });

  it('maps MySQL errors to SQLSTATEs', async () => {
    expect(await outcome(viaProxy, "INSERT INTO legacy.items (name) VALUES ('apple')")).toMatchObject({
      error: '23505',
    });
    expect(await outcome(viaProxy, 'INSERT INTO legacy.items (qty) VALUES (1)')).toMatchObject({
      error: '23502',
    });
    expect(await outcome(viaProxy, 'SELECT nope FROM legacy.items')).toMatchObject({ error: '42703' });
    expect(await outcome(viaProxy, 'SELECT * FROM legacy.nothing')).toMatchObject({ error: '42P01' });
  });

  it('runs a block in one MySQL transaction: ROLLBACK undoes, COMMIT keeps, read-only refuses writes', async () => {
    await viaProxy.query('BEGIN');
    await viaProxy.query("INSERT INTO legacy.items (name) VALUES ('tx-rolled-back')");
    expect(
      (await viaProxy.query("SELECT count(*) FROM legacy.items WHERE name = 'tx-rolled-back'")).rows,
    ).toEqual([{ count: '1' }]);
    await viaProxy.query('ROLLBACK');
    expect(
      (await viaProxy.query("SELECT count(*) FROM legacy.items WHERE name = 'tx-rolled-back'")).rows,
    ).toEqual([{ count: '0' }]);

    await viaProxy.query('BEGIN');
    await viaProxy.query("INSERT INTO legacy.items (name) VALUES ('tx-committed')");
    await viaProxy.query('COMMIT');
    expect(
      (await viaProxy.query("SELECT count(*) FROM legacy.items WHERE name = 'tx-committed'")).rows,
    ).toEqual([{ count: '1' }]);

    await viaProxy.query('BEGIN');
    await viaProxy.query("INSERT INTO legacy.items (name) VALUES ('tx-failed')");
    expect(await outcome(viaProxy, "INSERT INTO legacy.items (name) VALUES ('apple')")).toMatchObject({
      error: '23505',
    });
    await viaProxy.query('ROLLBACK');
    expect((await viaProxy.query("SELECT count(*) FROM legacy.items WHERE name = 'tx-failed'")).rows).toEqual(
      [{ count: '0' }],
    );

    await viaProxy.query('BEGIN READ ONLY');
    expect((await viaProxy.query('SELECT count(*) > 0 AS any FROM legacy.items')).rows).toEqual([
      { any: true },
    ]);
    expect(await outcome(viaProxy, "INSERT INTO legacy.items (name) VALUES ('ro')")).toMatchObject({
      error: '25006',
    });
    await viaProxy.query('ROLLBACK');
  });

  it('answers a ROLLBACK sent in the same packet as a statement that failed in the block', async () => {
    const { conn } = await RawConnection.login(proxy.port, {
      user: 'app',
      password: 'app-secret',
      database: 'app',
    });
    try {
      conn.write(fe.query('BEGIN'));
      await conn.untilReady();
      conn.write(fe.query('SELECT count(*) FROM legacy.items'));
      expect((await conn.untilReady()).map((m) => m.type).join('')).toBe('TDCZ');
      // The refusal and the ROLLBACK reach the proxy together: the ROLLBACK waits while the proxy fails PostgreSQL's side of the block.
      conn.write(
        Buffer.concat([fe.query("INSERT INTO legacy.items (name) VALUES ('apple')"), fe.query('ROLLBACK')]),
      );
      const failed = await conn.untilReady();
      expect(errorFields(failed.find((m) => m.type === 'E')!.body).code).toBe('23505');
      expect(failed.at(-1)!.body.toString()).toBe('E');
      const rolledBack = await conn.untilReady();
      expect(rolledBack.map((m) => m.type).join('')).toBe('CZ');
      expect(rolledBack.at(-1)!.body.toString()).toBe('I');
    } finally {
      conn.end();
    }
  });

  it('keeps one MySQL transaction for the whole block when RESET ALL replaces the session settings', async () => {
    await viaProxy.query('BEGIN');
    try {
      await viaProxy.query("INSERT INTO legacy.items (name, qty) VALUES ('tx-reset', 1)");
      await viaProxy.query('RESET ALL');
      // Only the block's own MySQL transaction sees the row it inserted.
      await viaProxy.query("UPDATE legacy.items SET qty = 2 WHERE name = 'tx-reset'");
      expect((await viaProxy.query("SELECT qty FROM legacy.items WHERE name = 'tx-reset'")).rows).toEqual([
        { qty: 2 },
      ]);
    } finally {
      await viaProxy.query('ROLLBACK');
    }
    expect((await viaProxy.query("SELECT count(*) FROM legacy.items WHERE name = 'tx-reset'")).rows).toEqual([
      { count: '0' },
    ]);
  });

  it('reads table definitions through the connection a block holds, and bounds the wait for a pooled connection', async () => {
    const admin = await mysql.createConnection({ host: maria.host, port: maria.port, user: maria.user });
    await admin.query('CREATE TABLE shop.tags (tag varchar(20) NOT NULL PRIMARY KEY, uses int NULL)');
    await admin.query('CREATE TABLE shop.notes (id int NOT NULL PRIMARY KEY, body text NULL)');
    await admin.query("INSERT INTO shop.tags VALUES ('red', 2)");
    await admin.end();
    // One pooled MySQL connection: the block holds it from its first statement on.
    const small = await startTestProxy({
      pluginsYaml: [
        `  mysql:`,
        `    host: 127.0.0.1`,
        `    port: ${maria.port}`,
        `    user: root`,
        `    database: shop`,
        `    schema: legacy`,
        `    pool_size: 1`,
        `    acquire_timeout: 1s`,
      ].join('\n'),
    });
    const client = new pg.Client(small.client());
    await client.connect();
    const other = new pg.Client(small.client());
    await other.connect();
    try {
      await client.query('BEGIN');
      await client.query("INSERT INTO legacy.items (name) VALUES ('tx-one-connection')");
      // tags and notes are not in the catalog yet: simple protocol, then extended (Describe first).
      expect((await client.query('SELECT tag, uses FROM legacy.tags')).rows).toEqual([
        { tag: 'red', uses: 2 },
      ]);
      expect((await client.query('SELECT body FROM legacy.notes WHERE id = $1', [1])).rows).toEqual([]);
      // Another client finds the only connection held by the open block: refused after acquire_timeout, not left waiting.
      expect(await outcome(other, 'SELECT count(*) FROM legacy.tags')).toMatchObject({ error: '53300' });
      await client.query('ROLLBACK');
      expect((await other.query('SELECT count(*) FROM legacy.tags')).rows).toEqual([{ count: '1' }]);
      expect(
        (await client.query("SELECT count(*) FROM legacy.items WHERE name = 'tx-one-connection'")).rows,
      ).toEqual([{ count: '0' }]);
    } finally {
      await client.end();
      await other.end();
      await small.close();
    }
  });

  it('answers postgres.js with parameters and native types, and prints the MySQL statement for EXPLAIN ROUTE', async () => {
    const sql = postgres(proxy.url(), { max: 1, onnotice: () => {} });
    try {
      const found =
        await sql`SELECT name, qty, price, active, day FROM legacy.items WHERE qty >= ${3} AND name <> ${'x'} ORDER BY name LIMIT ${2}`;
      expect(found.map((r) => ({ ...r }))).toEqual([
        { name: 'Apple', qty: 8, price: '2.25', active: false, day: new Date('2024-02-03T00:00:00Z') },
        { name: 'apple', qty: 3, price: '1.50', active: true, day: new Date('2024-01-02T00:00:00Z') },
      ]);
    } finally {
      await sql.end();
    }
    const explained = await viaProxy.query(
      "EXPLAIN ROUTE SELECT name FROM legacy.items WHERE name ILIKE 'a%' ORDER BY qty LIMIT 2",
    );
    const text = explained.rows.map((r) => Object.values(r).join(' ')).join('\n');
    expect(text).toContain(
      'MySQL: SELECT `items`.`name` AS `name` FROM `shop`.`items` AS `items` WHERE (CONVERT(LOWER(`items`.`name`) USING utf8mb4) COLLATE utf8mb4_nopad_bin LIKE LOWER(?)) ORDER BY (`items`.`qty` IS NULL), `items`.`qty` LIMIT 2',
    );
    expect(text).toContain('bound: ?1 = "a%"::text');
  });

  it('answers 08006 while MySQL is down, for that statement only', async () => {
    await maria.kill();
    try {
      expect(await outcome(viaProxy, 'SELECT name FROM legacy.items')).toMatchObject({ error: '08006' });
      expect((await viaProxy.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await maria.restart();
    }
    // Back up: the pool's connections to the killed server are gone, new ones answer.
    expect(
      await expectSame("SELECT name FROM legacy.items WHERE name = 'fig' OR name = 'apple' ORDER BY name"),
    ).toBe('same');
  });
});
