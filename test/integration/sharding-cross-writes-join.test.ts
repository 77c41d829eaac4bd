// UPDATE … FROM and DELETE … USING sharded tables not co-located with the target, correlated NOT EXISTS with
// NULLs on both sides, and RETURNING of zero rows: the same statements through the proxy over three shards and
// on one plain PostgreSQL, answers (rows, tags, result columns) and whole tables compared.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sortedAnswer as answer, startShardedRig, type ShardedRig } from './sharding-helpers.js';

const schema = [
  'CREATE TABLE customer (c_custkey int8 PRIMARY KEY, c_segment text, c_bonus int4, c_nation int4)',
  'CREATE TABLE orders (o_orderkey int8 PRIMARY KEY, o_custkey int8, o_total numeric(12,2), o_note text, o_rate float8)',
  'CREATE TABLE stock (s_id int8 PRIMARY KEY, s_custkey int8, s_qty int4, s_code char(3))',
  'CREATE TABLE codes (k int8 PRIMARY KEY, code char(3), grade varchar(4))',
  'CREATE TABLE nation (n_nationkey int4 PRIMARY KEY, n_name text)',
];
const tables = ['customer', 'orders', 'stock', 'nation', 'codes'];

/** Every customer key once: an order joins at most one customer, so UPDATE … FROM has one match per row. */
function rows(): string[] {
  const segments = ['auto', 'build', 'food', 'home'];
  const cs = Array.from({ length: 40 }, (_, i) => `(${i + 1}, '${segments[i % 4]}', ${i % 7}, ${i % 5})`);
  // Custkeys up to 45 (some without a customer), every seventh NULL.
  const os = Array.from(
    { length: 150 },
    (_, i) =>
      `(${i + 1}, ${i % 7 === 0 ? 'NULL' : (i % 45) + 1}, ${(i * 37) % 1000}.25, 'n${i % 3}', ${i / 3})`,
  );
  const ss = Array.from(
    { length: 90 },
    (_, i) => `(${i + 1}, ${i % 5 === 0 ? 'NULL' : (i * 3) % 50}, ${i % 60})`,
  );
  return [
    `INSERT INTO customer VALUES ${cs.join(', ')}`,
    `INSERT INTO orders VALUES ${os.join(', ')}`,
    `INSERT INTO stock VALUES ${ss.join(', ')}`,
    `INSERT INTO codes VALUES ${Array.from(
      { length: 60 },
      (_, i) => `(${i + 1}, 'c${i + 1}', 'g${(i + 1) % 3}')`,
    ).join(', ')}`,
    `INSERT INTO nation VALUES ${Array.from({ length: 5 }, (_, i) => `(${i}, 'n${i}')`).join(', ')}`,
  ];
}

let rig: ShardedRig;
let sharded: pg.Client;
let single: pg.Client;

async function expectTablesEqual(): Promise<void> {
  for (const t of tables)
    expect(await answer(sharded, `SELECT * FROM ${t}`), t).toEqual(
      await answer(single, `SELECT * FROM ${t}`),
    );
}

/** The same write through the proxy and on the plain server: the same rows, tag and result columns. */
async function expectSameWrite(sql: string, values?: unknown[]): Promise<void> {
  const got = await answer(sharded, sql, values);
  expect(got, sql).not.toHaveProperty('error');
  expect(got, sql).toEqual(await answer(single, sql, values));
}

let prepared = 0;

/** The result columns node-postgres saw (from RowDescription), by a simple query or a named prepared one. */
async function fieldsOf(c: pg.Client, sql: string, extended = false) {
  const name = extended ? `returning_${prepared++}` : undefined;
  const r = await c.query({ name, text: sql, rowMode: 'array' });
  const fields = r.fields.map((f) => [f.name, f.dataTypeID, f.dataTypeModifier]);
  return { fields, rows: r.rows.length, count: r.rowCount };
}

beforeAll(async () => {
  rig = await startShardedRig({
    sharding: {
      tables: { customer: 'c_custkey', orders: 'o_orderkey', stock: 's_id', codes: 'k' },
      reference: ['nation'],
    },
    single: 'sharding_cross_writes_join',
  });
  sharded = rig.sharded;
  single = rig.single;
  for (const c of [sharded, single]) for (const sql of [...schema, ...rows()]) await c.query(sql);
}, 120_000);

afterAll(async () => {
  await rig?.stop();
});

describe('UPDATE … FROM and DELETE … USING sharded tables not co-located', () => {
  it('writes as one PostgreSQL does (one matching row per target row)', async () => {
    for (const sql of [
      `UPDATE orders SET o_note = c.c_segment, o_total = o_total + c.c_bonus
         FROM customer c WHERE c.c_custkey = orders.o_custkey AND c.c_segment IN ('auto', 'food')`,
      // Unqualified columns of the joined table, RETURNING of both sides, an expression over both.
      `UPDATE orders o SET o_rate = o_rate * c_bonus FROM customer
         WHERE c_custkey = o.o_custkey AND c_bonus > 3 RETURNING o.o_orderkey, c_segment, o.o_rate`,
      `DELETE FROM stock USING customer c WHERE c.c_custkey = stock.s_custkey AND c.c_segment = 'home'
         RETURNING stock.s_id, c.c_bonus`,
      // A reference table beside the sharded one, and a function in WHERE (evaluated on the shards only).
      `UPDATE stock s SET s_qty = s.s_qty + n.n_nationkey FROM customer c, nation n
         WHERE c.c_custkey = s.s_custkey AND n.n_nationkey = c.c_nation AND lower(n.n_name) <> 'n2'`,
      // No column of the joined table named: it only has to have a row.
      'DELETE FROM stock USING customer WHERE stock.s_qty > 55',
      // Two sharded tables joined to the target.
      `UPDATE customer c SET c_bonus = c_bonus + 1 FROM orders o, stock s
         WHERE o.o_custkey = c.c_custkey AND s.s_id = o.o_orderkey AND o.o_orderkey < 30`,
      // A parameter, and nothing matching.
      'DELETE FROM orders USING customer c WHERE c.c_custkey = orders.o_custkey AND c.c_segment = $1',
    ]) {
      await expectSameWrite(sql, sql.includes('$1') ? ['none'] : undefined);
    }
    await expectTablesEqual();
  });

  it('rolls back with the client’s block', async () => {
    const sql = `UPDATE orders SET o_note = 'x' FROM customer c WHERE c.c_custkey = orders.o_custkey`;
    await sharded.query('BEGIN');
    expect(await answer(sharded, sql)).not.toHaveProperty('error');
    await sharded.query('ROLLBACK');
    await expectTablesEqual();
  });

  it('shows the coordinator read and the shards’ write in EXPLAIN ROUTE', async () => {
    const r = await sharded.query(
      'EXPLAIN ROUTE UPDATE orders SET o_note = c.c_segment FROM customer c WHERE c.c_custkey = orders.o_custkey',
    );
    const lines = r.rows.map((row) => Object.values(row)[0] as string);
    expect(lines[0]).toMatch(/^JoinWrite table=orders shards=\[0,1,2\] commit=two-phase .*unnest/);
    expect(lines[1]).toMatch(/^ {2}CoordinatorRead .*array_agg.*FROM customer/);
    const anti = await sharded.query(
      'EXPLAIN ROUTE DELETE FROM stock s WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.o_custkey = s.s_custkey)',
    );
    const shown = anti.rows.map((row) => Object.values(row)[0] as string);
    expect(shown[0]).toMatch(/^SubqueryWrite table=stock .*s\.s_custkey IS NULL OR NOT/);
    expect(shown[1]).toMatch(/^ {2}CoordinatorRead .*o_custkey IS NOT NULL/);
  });

  it('refuses with 0A000 what it cannot keep exactly', async () => {
    for (const sql of [
      'UPDATE orders SET o_note = c.c_segment FROM customer c WHERE c.c_custkey = orders.o_custkey RETURNING *',
      'UPDATE customer SET c_custkey = o.o_orderkey FROM orders o WHERE o.o_custkey = customer.c_custkey',
      `WITH x AS (SELECT 1) UPDATE orders SET o_note = 'w' FROM customer c WHERE c.c_custkey = orders.o_custkey`,
    ]) {
      expect(await answer(sharded, sql), sql).toMatchObject({ error: '0A000' });
    }
    await expectTablesEqual();
  });
});

describe('values of types whose name alone means a length (character)', () => {
  it('passes them on whole, joined or from a subquery', async () => {
    for (const sql of [
      'UPDATE stock SET s_code = x.code FROM codes x WHERE x.k = stock.s_custkey',
      "UPDATE stock SET s_qty = 100 WHERE s_code IN (SELECT code FROM codes WHERE grade = 'g1')",
      "UPDATE stock SET s_code = (SELECT max(code) FROM codes WHERE grade = 'g2') WHERE s_custkey IS NULL",
    ]) {
      await expectSameWrite(sql);
    }
    await expectTablesEqual();
  });
});

describe('float values under extra_float_digits = 0 (whose text form rounds them)', () => {
  it('passes a subquery’s float value on exactly', async () => {
    for (const c of [sharded, single]) await c.query('SET extra_float_digits = 0');
    try {
      await expectSameWrite(
        'UPDATE orders SET o_rate = (SELECT o_rate FROM orders WHERE o_orderkey = 51) WHERE o_orderkey = 1',
      );
      await expectSameWrite(
        'UPDATE orders o SET o_rate = c.c_bonus / 3.0::float8 FROM customer c WHERE c.c_custkey = o.o_custkey',
      );
    } finally {
      for (const c of [sharded, single]) await c.query('RESET extra_float_digits');
    }
    await expectTablesEqual();
  });
});

describe('correlated NOT EXISTS tied by one equality', () => {
  it('writes as one PostgreSQL does with NULLs on both sides', async () => {
    for (const sql of [
      // NULL outer keys (stock.s_custkey): NOT EXISTS is true for them.
      `UPDATE stock s SET s_qty = -1 WHERE NOT EXISTS
         (SELECT 1 FROM customer c WHERE c.c_custkey = s.s_custkey AND c.c_segment = 'food')`,
      // NULL inner keys (orders.o_custkey): they match nothing, and must not make the predicate unknown.
      "UPDATE customer c SET c_segment = c_segment || '-idle' WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.o_custkey = c.c_custkey AND o.o_total > 300)",
      // Both sides nullable.
      'DELETE FROM stock s WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.o_custkey = s.s_custkey) RETURNING s_id',
    ]) {
      await expectSameWrite(sql);
    }
    await expectTablesEqual();
  });
});

describe('RETURNING', () => {
  it('describes the result columns as PostgreSQL does, for zero rows too', async () => {
    for (const sql of [
      "UPDATE orders SET o_note = 'r' WHERE o_total < 0 RETURNING o_orderkey, o_note",
      'INSERT INTO stock SELECT o_orderkey + 1000, o_custkey, 1 FROM orders WHERE o_total < 0 RETURNING s_id, s_qty',
      "UPDATE orders SET o_note = 'r' WHERE o_custkey IN (SELECT c_custkey FROM customer WHERE c_bonus > 100) RETURNING o_orderkey",
      'DELETE FROM orders USING customer c WHERE c.c_custkey = orders.o_custkey AND c.c_bonus > 100 RETURNING orders.o_orderkey, c.c_segment',
      'DELETE FROM orders WHERE o_orderkey = 100000 RETURNING o_orderkey',
      // Joined columns keep their lengths (character(3), varchar(4), numeric(12,2)) in RETURNING; rows unchanged.
      'UPDATE stock SET s_qty = s_qty FROM codes x WHERE x.k = stock.s_custkey RETURNING x.code, x.grade, stock.s_code',
      'UPDATE customer SET c_bonus = c_bonus FROM orders o WHERE o.o_custkey = customer.c_custkey RETURNING o.o_total',
    ]) {
      expect(await fieldsOf(sharded, sql), sql).toEqual(await fieldsOf(single, sql));
      expect(await fieldsOf(sharded, sql, true), `${sql} (extended)`).toEqual(
        await fieldsOf(single, sql, true),
      );
    }
  });
});
