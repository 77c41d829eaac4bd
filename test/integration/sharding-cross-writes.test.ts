// Writes whose rows or WHERE values need a read across shards (INSERT … SELECT, UPDATE/DELETE … IN (SELECT …)):
// the coordinator reads, the proxy's own distributed write writes. The same statements run through the proxy
// over three shards and on one plain PostgreSQL; then whole tables are compared.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fe from '../../src/protocol/frontend-messages.js';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { RawConnection } from './helpers/raw-client.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import { createAppDatabase, shardClient, shardedDatabasesYaml, sortedAnswer } from './sharding-helpers.js';

const plainDb = 'sharding_cross_writes';

const schema = [
  'CREATE TABLE customer (c_custkey int8 PRIMARY KEY, c_segment text, c_nation int4)',
  'CREATE TABLE orders (o_orderkey int8 PRIMARY KEY, o_custkey int8, o_total numeric(12,2), o_day date, o_note text)',
  'CREATE TABLE lineitem (l_orderkey int8, l_linenumber int4, l_partkey int8, l_quantity int4, l_price float8)',
  'CREATE TABLE archive (a_orderkey int8 PRIMARY KEY, a_custkey int8, a_total numeric(12,2), a_day date, a_note text, a_flag bool DEFAULT false)',
  'CREATE TABLE cust_totals (t_custkey int8 PRIMARY KEY, t_total numeric, t_count int8)',
  'CREATE TABLE events (e_day int4, e_kind text)',
  'CREATE TABLE nation (n_nationkey int4 PRIMARY KEY, n_name text)',
  'CREATE TABLE by_day (d date, v int8)',
];
const tables = ['customer', 'orders', 'lineitem', 'archive', 'cust_totals', 'events', 'nation', 'by_day'];

function rows(): string[] {
  const list = (xs: string[]) => xs.join(', ');
  const segments = ['auto', 'build', 'food', 'home'];
  const cs = Array.from({ length: 30 }, (_, i) => `(${i + 1}, '${segments[i % 4]}', ${i % 5})`);
  const os = Array.from(
    { length: 120 },
    (_, i) =>
      `(${i + 1}, ${(i % 33) + 1}, ${(i * 37) % 1000}.25, '2024-0${(i % 9) + 1}-1${i % 10}', ${i % 6 === 0 ? 'NULL' : `'n${i % 4}'`})`,
  );
  const ls: string[] = [];
  for (let o = 1; o <= 120; o++)
    for (let n = 1; n <= o % 4; n++)
      ls.push(`(${o}, ${n}, ${(o * 7 + n) % 40}, ${(o + n) % 50}, ${(o * n) / 8})`);
  return [
    `INSERT INTO customer VALUES ${list(cs)}`,
    `INSERT INTO orders VALUES ${list(os)}`,
    `INSERT INTO lineitem VALUES ${list(ls)}`,
    `INSERT INTO nation VALUES ${list(Array.from({ length: 5 }, (_, i) => `(${i}, 'n${i}')`))}`,
  ];
}

let cluster: Cluster;
let proxy: TestProxy;
let sharded: pg.Client;
let single: pg.Client;

const answer = sortedAnswer;

/** The whole table, every row, sorted: what the proxy's shards hold together against the plain server. */
async function table(c: pg.Client, name: string) {
  return answer(c, `SELECT * FROM ${name}`);
}

/** Hash-sharded tables and their keys; events is range-sharded by e_day (below 100, below 200, the rest). */
const keys: Record<string, string> = {
  customer: 'c_custkey',
  orders: 'o_orderkey',
  lineitem: 'l_orderkey',
  archive: 'a_orderkey',
  cust_totals: 't_custkey',
};

/** Every row on the shard the shard map gives its key, read on each shard directly. */
async function expectPlaced(): Promise<void> {
  for (let s = 0; s < 3; s++) {
    const direct = await connect(shardClient(cluster, s));
    try {
      for (const [t, key] of Object.entries(keys)) {
        const r = await direct.query({ text: `SELECT ${key}::text AS k FROM ${t}`, rowMode: 'array' });
        const misplaced = (r.rows as string[][]).filter(([k]) => hashShard('int', BigInt(k), 3) !== s);
        expect(misplaced, `${t} on shard ${s}`).toEqual([]);
      }
      const days = await direct.query({
        text: `SELECT to_char(d, 'YYYY-MM-DD') FROM by_day`,
        rowMode: 'array',
      });
      const away = (days.rows as string[][]).filter(([d]) => hashShard('date', d, 3) !== s);
      expect(away, `by_day on shard ${s}`).toEqual([]);
      const range = [`e_day >= 100`, `e_day < 100 OR e_day >= 200`, `e_day < 200`][s];
      const events = await direct.query(`SELECT count(*)::int AS n FROM events WHERE ${range}`);
      expect(events.rows[0].n, `events on shard ${s}`).toBe(0);
    } finally {
      await direct.end();
    }
  }
}

async function expectTablesEqual(): Promise<void> {
  for (const t of tables) expect(await table(sharded, t), t).toEqual(await table(single, t));
  await expectPlaced();
}

/** The same write through the proxy and on the plain server: the same answer (tag, RETURNING rows). */
async function expectSameWrite(sql: string, values?: unknown[]): Promise<void> {
  const got = await answer(sharded, sql, values);
  expect(got, sql).not.toHaveProperty('error');
  expect(got, sql).toEqual(await answer(single, sql, values));
}

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  proxy = await startTestProxy({
    databasesYaml: shardedDatabasesYaml({
      cluster,
      sharding: {
        tables: {
          customer: 'c_custkey',
          orders: 'o_orderkey',
          lineitem: 'l_orderkey',
          archive: 'a_orderkey',
          cust_totals: 't_custkey',
          by_day: 'd',
          events: {
            column: 'e_day',
            algorithm: 'range',
            ranges: [
              { shard: 0, to: 100 },
              { shard: 1, from: 100, to: 200 },
              { shard: 2, from: 200 },
            ],
          },
        },
        reference: ['nation'],
      },
    }),
  });
  sharded = await connect(proxy.client());
  const admin = await connect(directConfig('postgres'));
  await admin.query(`DROP DATABASE IF EXISTS ${plainDb}`);
  await admin.query(`CREATE DATABASE ${plainDb} TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`);
  await admin.end();
  single = await connect(directConfig(plainDb));
  for (const c of [sharded, single]) for (const sql of [...schema, ...rows()]) await c.query(sql);
}, 120_000);

afterAll(async () => {
  await sharded?.end();
  await single?.end();
  await proxy?.close();
  await cluster?.stop();
  const admin = await connect(directConfig('postgres'));
  await admin.query(`DROP DATABASE IF EXISTS ${plainDb}`);
  await admin.end();
});

describe('INSERT … SELECT across shards', () => {
  it('inserts the rows a cross-shard read gives, split by the target shard key', async () => {
    for (const sql of [
      `INSERT INTO archive (a_orderkey, a_custkey, a_total, a_day, a_note)
         SELECT o.o_orderkey, o.o_custkey, o.o_total, o.o_day, c.c_segment
         FROM orders o JOIN customer c ON c.c_custkey = o.o_custkey WHERE c.c_segment = 'auto'`,
      'INSERT INTO cust_totals SELECT o_custkey, sum(o_total), count(*) FROM orders GROUP BY o_custkey',
      `INSERT INTO archive (a_orderkey, a_custkey, a_total) SELECT o_orderkey, o_custkey, o_total * 2
         FROM orders WHERE o_total > 500 ON CONFLICT DO NOTHING`,
      // Untyped literals take the target columns' types, as PostgreSQL gives them in an INSERT's SELECT.
      `INSERT INTO archive (a_orderkey, a_custkey, a_day, a_note, a_flag)
         SELECT o_orderkey + 10000, NULL, '2024-01-02', 'lit', 't' FROM orders WHERE o_orderkey < 20`,
      `WITH big AS (SELECT o_custkey, max(o_total) m FROM orders GROUP BY 1)
         INSERT INTO cust_totals SELECT o_custkey + 5000, m, 1 FROM big`,
      // More rows than one batch, and a float and an int computed on the coordinator.
      `INSERT INTO lineitem SELECT o_orderkey + 100000, g, o_custkey, g % 7, g * 1.5 + o_total::float8
         FROM orders, generate_series(1, 30) g`,
      "INSERT INTO events SELECT (o_orderkey * 7) % 300, 'from-' || o_note FROM orders",
    ]) {
      await expectSameWrite(sql);
    }
    // A date key is placed by its value whatever the session's DateStyle prints.
    for (const c of [sharded, single]) await c.query("SET DateStyle = 'SQL, DMY'");
    await expectSameWrite('INSERT INTO by_day SELECT o_day + (o_orderkey % 5)::int, o_orderkey FROM orders');
    for (const c of [sharded, single]) await c.query('RESET DateStyle');
    await expectSameWrite(
      'INSERT INTO cust_totals SELECT c_custkey + 1000, $1, 0 FROM customer WHERE c_nation = 1 RETURNING t_custkey, t_total',
      ['7.5'],
    );
    await expectTablesEqual();
  });

  it('types a text column as PostgreSQL does: refused into an integer column (42804), literals accepted', async () => {
    const textIntoInt = 'INSERT INTO cust_totals SELECT c_custkey + 2000, c_segment, 0 FROM customer';
    const plain = await answer(single, textIntoInt);
    expect(plain).toMatchObject({ error: '42804' });
    expect(await answer(sharded, textIntoInt)).toMatchObject({ error: plain.error });
    // A subquery's literal is text by the time the INSERT reads it: refused too.
    const viaSubquery =
      "INSERT INTO cust_totals SELECT k, v, 0 FROM (SELECT c_custkey + 3000, '5' FROM customer) s (k, v)";
    expect(await answer(single, viaSubquery)).toMatchObject({ error: '42804' });
    expect(await answer(sharded, viaSubquery)).toMatchObject({ error: '42804' });
    await expectSameWrite(
      "INSERT INTO cust_totals SELECT c_custkey + 4000, '5', '1' FROM customer WHERE c_nation = 2",
    );
    await expectTablesEqual();
  });

  it('refuses what would change the meaning', async () => {
    const update = await answer(
      sharded,
      'INSERT INTO cust_totals SELECT o_custkey, 0, 0 FROM orders ON CONFLICT (t_custkey) DO UPDATE SET t_count = 1',
    );
    expect(update).toMatchObject({ error: '0A000', message: expect.stringMatching(/DO UPDATE/) });
  });

  it('writes nothing when one shard fails', async () => {
    const direct = await connect(shardClient(cluster, 1));
    try {
      await direct.query('ALTER TABLE archive ADD CONSTRAINT none_here CHECK (a_orderkey < 0) NOT VALID');
      const before = await table(sharded, 'archive');
      const failed = await answer(
        sharded,
        'INSERT INTO archive (a_orderkey) SELECT o_orderkey + 20000 FROM orders',
      );
      expect(failed).toMatchObject({ error: '23514' });
      expect(await table(sharded, 'archive')).toEqual(before);
    } finally {
      await direct.query('ALTER TABLE archive DROP CONSTRAINT none_here');
      await direct.end();
    }
  });

  it('joins the client’s block: rolled back with it, committed with it', async () => {
    const sql = 'INSERT INTO archive (a_orderkey, a_note) SELECT o_orderkey + 30000, o_note FROM orders';
    await sharded.query('BEGIN');
    await sharded.query(sql);
    await sharded.query('ROLLBACK');
    await expectTablesEqual();
    await sharded.query('BEGIN');
    await expectSameWrite(sql);
    await sharded.query('COMMIT');
    await expectTablesEqual();
  });

  it('passes a cancel request on to the coordinator’s read, and writes nothing', async () => {
    const c = await connect(proxy.client());
    // Makes the coordinator database if no statement did yet (it inserts no row).
    await sharded.query('INSERT INTO archive (a_orderkey) SELECT 1 WHERE false');
    const coordinator = await connect({ ...shardClient(cluster, 0), database: 'app_coordinator' });
    const fetching =
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'FETCH % FROM polyproxy_insert_rows' AND state = 'active'";
    try {
      const before = await table(sharded, 'archive');
      const running = c
        .query(
          'INSERT INTO archive (a_orderkey) SELECT o_orderkey + 70000 FROM orders WHERE (SELECT pg_sleep(30)) IS NOT NULL',
        )
        .then(
          () => null,
          (e: Error & { code: string }) => e,
        );
      await waitFor(async () => (await coordinator.query(fetching)).rows[0].n === 1, {
        what: 'the coordinator to run the read',
      });
      const keys = c as unknown as { processID: number; secretKey: number };
      const cancel = await RawConnection.connect(proxy.port);
      cancel.write(fe.cancelRequest(keys.processID, keys.secretKey));
      await cancel.closed;
      expect(await running).toMatchObject({ code: '57014' });
      expect(await table(sharded, 'archive')).toEqual(before);
    } finally {
      await coordinator.end();
      await c.end();
    }
  });

  it('is refused in a block that already wrote on shards (the coordinator would not see those writes)', async () => {
    await sharded.query('BEGIN');
    await sharded.query('INSERT INTO orders VALUES (900, 1, 1, NULL, NULL)');
    const refused = await answer(
      sharded,
      'INSERT INTO archive (a_orderkey) SELECT o_orderkey + 40000 FROM orders',
    );
    expect(refused).toMatchObject({ error: '0A000' });
    await sharded.query('ROLLBACK');
    await expectTablesEqual();
  });
});

describe('UPDATE and DELETE with subqueries across shards', () => {
  it('writes with the subqueries’ values, as one PostgreSQL does', async () => {
    for (const sql of [
      "UPDATE orders SET o_note = 'vip' WHERE o_custkey IN (SELECT c_custkey FROM customer WHERE c_segment = 'build')",
      'DELETE FROM lineitem WHERE l_orderkey IN (SELECT o_orderkey FROM orders WHERE o_total < 100)',
      'UPDATE orders SET o_total = o_total + 1 WHERE o_total > (SELECT avg(l_price) FROM lineitem)',
      'UPDATE customer SET c_nation = (SELECT max(l_quantity) FROM lineitem) WHERE c_custkey < 5',
      'DELETE FROM customer WHERE c_custkey NOT IN (SELECT o_custkey FROM orders WHERE o_custkey IS NOT NULL)',
      "UPDATE customer SET c_segment = 'none' WHERE NOT EXISTS (SELECT 1 FROM orders WHERE o_total > 100000)",
      "DELETE FROM archive WHERE a_orderkey = ANY (SELECT o_orderkey FROM orders WHERE o_note = 'vip') RETURNING a_orderkey",
      // A correlated EXISTS tied by one equality is a membership test: evaluated once as IN.
      "UPDATE orders o SET o_note = 'food' WHERE EXISTS (SELECT 1 FROM customer c WHERE c.c_custkey = o.o_custkey AND c.c_segment = 'food') AND o.o_total > 300",
    ]) {
      await expectSameWrite(sql);
    }
    await expectTablesEqual();
  });

  it('rolls back with the client’s block, and writes nothing when one shard fails', async () => {
    const sql = "UPDATE orders SET o_note = 'poison' WHERE o_custkey IN (SELECT c_custkey FROM customer)";
    await sharded.query('BEGIN');
    expect(await answer(sharded, sql)).not.toHaveProperty('error');
    await sharded.query('ROLLBACK');
    await expectTablesEqual();
    const direct = await connect(shardClient(cluster, 1));
    try {
      await direct.query("ALTER TABLE orders ADD CONSTRAINT no_poison CHECK (o_note <> 'poison') NOT VALID");
      expect(await answer(sharded, sql)).toMatchObject({ error: '23514' });
      await expectTablesEqual();
    } finally {
      await direct.query('ALTER TABLE orders DROP CONSTRAINT no_poison');
      await direct.end();
    }
  });

  it('refuses a subquery that depends on the row written', async () => {
    const refused = await answer(
      sharded,
      'DELETE FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customer c WHERE c.c_custkey = o.o_custkey AND c.c_nation > o.o_total)',
    );
    expect(refused).toMatchObject({ error: '0A000' });
  });

  it('shows the coordinator read feeding the write in EXPLAIN ROUTE', async () => {
    const explain = async (sql: string) =>
      (await sharded.query(`EXPLAIN ROUTE ${sql}`)).rows.map((row) => Object.values(row)[0] as string);
    const insert = await explain('INSERT INTO archive (a_orderkey) SELECT o_orderkey + 50000 FROM orders');
    expect(insert[0]).toMatch(
      /^InsertFromRead table=archive key=a_orderkey shards=\[0,1,2\] commit=two-phase/,
    );
    expect(insert[1]).toMatch(/^ {2}CoordinatorRead database=.*app_coordinator sql=.*FROM orders/);
    const del = await explain(
      'DELETE FROM lineitem WHERE l_orderkey IN (SELECT o_orderkey FROM orders WHERE o_total < 9)',
    );
    expect(del[0]).toMatch(/^SubqueryWrite table=lineitem .*l_orderkey = ANY/);
    expect(del[1]).toMatch(/^ {2}CoordinatorRead .*ARRAY\(SELECT o_orderkey FROM orders/);
  });
});
