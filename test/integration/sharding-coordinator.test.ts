// The coordinator: reads the proxy's own plans refuse (joins off the shard keys, subqueries, CTEs, window
// functions, set operations, views over sharded tables) run on a PostgreSQL database whose partitioned
// postgres_fdw tables mirror the shards. Each answer is compared with one plain PostgreSQL holding the
// same rows; the partitions' bounds are checked against where the proxy placed each row.
import pg from 'pg';
import Cursor from 'pg-cursor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fe from '../../src/protocol/frontend-messages.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { RawConnection } from './helpers/raw-client.js';
import type { Cluster } from '../../src/sandbox/postgres.js';
import { directConfig, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import {
  hundredRanges,
  listSharding,
  rawTypes,
  shardClient,
  sortedAnswer as answer,
  startShardedRig,
  type ShardedRig,
} from './sharding-helpers.js';

const schema = [
  'CREATE TABLE part (p_partkey int8 PRIMARY KEY, p_size int4, p_name text)',
  'CREATE TABLE orders (o_orderkey int8 PRIMARY KEY, o_custkey int8, o_total numeric(12,2))',
  'CREATE TABLE lineitem (l_orderkey int8, l_linenumber int4, l_partkey int8, l_quantity int4)',
  'CREATE TABLE nation (n_nationkey int4 PRIMARY KEY, n_name text)',
  'CREATE TABLE events (e_id int4, e_day int4, e_kind text)',
  'CREATE TABLE regions (r_code text, r_value int4)',
  'CREATE TABLE users (u_id uuid, u_name varchar(20))',
];

function rows(): string[] {
  const list = (xs: string[]) => xs.join(', ');
  const ps = Array.from({ length: 40 }, (_, i) => `(${i + 1}, ${(i * 13) % 50}, 'p${i % 7}')`);
  const os = Array.from({ length: 90 }, (_, i) => `(${i + 1}, ${(i % 20) + 1}, ${(i * 37) % 1000}.25)`);
  const ls: string[] = [];
  for (let o = 1; o <= 90; o++)
    for (let n = 1; n <= o % 4; n++) ls.push(`(${o}, ${n}, ${((o * 7 + n * 5) % 40) + 1}, ${(o + n) % 50})`);
  const es = Array.from({ length: 60 }, (_, i) => `(${i + 1}, ${i * 5}, 'k${i % 3}')`);
  const rs = ['eu', 'us', 'ap', 'eu', 'us', 'sa'].map((c, i) => `('${c}', ${i})`);
  const us = Array.from(
    { length: 12 },
    (_, i) => `('${(i + 1).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000', 'u${i}')`,
  );
  return [
    `INSERT INTO part VALUES ${list(ps)}`,
    `INSERT INTO orders VALUES ${list(os)}`,
    `INSERT INTO lineitem VALUES ${list(ls)}`,
    `INSERT INTO nation VALUES ${list(Array.from({ length: 5 }, (_, i) => `(${i}, 'n${i}')`))}`,
    `INSERT INTO events VALUES ${list(es)}`,
    `INSERT INTO regions VALUES ${list(rs)}`,
    `INSERT INTO users VALUES ${list(us)}`,
  ];
}

let rig: ShardedRig;
let proxy: TestProxy;
let cluster: Cluster;
let sharded: pg.Client;
let single: pg.Client;
let coordinator: pg.Client;

/** Through the proxy and on the plain server: the same rows (in any order), never a refusal. */
async function expectEqual(sql: string, values?: unknown[]): Promise<void> {
  const got = await answer(sharded, sql, values);
  expect(got, sql).not.toHaveProperty('error');
  expect(got, sql).toEqual(await answer(single, sql, values));
}

beforeAll(async () => {
  rig = await startShardedRig({
    sharding: {
      tables: {
        lineitem: 'l_orderkey',
        orders: 'o_orderkey',
        part: 'p_partkey',
        users: 'u_id',
        events: hundredRanges('e_day'),
        regions: listSharding('r_code', [
          [0, ['eu']],
          [1, ['us', 'sa']],
          [2, ['ap']],
        ]),
      },
      reference: ['nation'],
    },
    single: 'sharding_coordinator',
  });
  ({ proxy, cluster, sharded, single } = rig);
  for (const c of [sharded, single]) for (const sql of [...schema, ...rows()]) await c.query(sql);
  // The first coordinator statement creates the coordinator database.
  await expectEqual('SELECT count(*) FROM lineitem l JOIN part p ON p.p_partkey = l.l_partkey');
  coordinator = await connect({ ...shardClient(cluster, 0), database: 'app_coordinator' });
});

afterAll(async () => {
  await coordinator?.end();
  await rig?.stop();
});

describe('partitions', () => {
  it('bound each partition to exactly the rows the proxy placed on its shard', async () => {
    const keys: Record<string, [string, string[]]> = {
      lineitem: ['l_orderkey', Array.from({ length: 90 }, (_, i) => String(i + 1))],
      part: ['p_partkey', Array.from({ length: 40 }, (_, i) => String(i + 1))],
      events: ['e_day', Array.from({ length: 60 }, (_, i) => String(i * 5))],
      regions: ['r_code', ['eu', 'us', 'ap', 'sa']],
    };
    for (const [table, [column, values]] of Object.entries(keys)) {
      for (const v of values) {
        // A key restriction prunes to one partition: PostgreSQL finds the rows only where its bounds agree.
        const sql = `SELECT count(*) FROM ${table} WHERE ${column} = $1`;
        const pruned = await coordinator.query(sql, [v]);
        const truth = await single.query(sql, [v]);
        expect(pruned.rows[0].count, `${table} ${v}`).toBe(truth.rows[0].count);
      }
    }
    // Each partition reads one shard's table; every row there satisfies that partition's bounds.
    for (let s = 0; s < 3; s++) {
      const direct = await connect(shardClient(cluster, s));
      try {
        const onShard = await direct.query('SELECT count(*) FROM lineitem');
        const check = await coordinator.query(
          // Materialized: the check runs on the coordinator (pushed to the shard, the OID would mean nothing).
          `WITH r AS MATERIALIZED (SELECT l_orderkey FROM polyproxy_coordinator."public.lineitem.${s}")
           SELECT count(*) FILTER (WHERE satisfies_hash_partition('lineitem'::regclass, 3, ${s}, l_orderkey)) AS inside,
             count(*) AS total FROM r`,
        );
        expect(check.rows[0]).toEqual({ inside: onShard.rows[0].count, total: onShard.rows[0].count });
      } finally {
        await direct.end();
      }
    }
  });
});

describe('reads the native plans refuse', () => {
  it('answers them as one PostgreSQL does', async () => {
    for (const sql of [
      'SELECT p.p_name, sum(l.l_quantity) FROM lineitem l JOIN part p ON p.p_partkey = l.l_partkey GROUP BY p.p_name',
      'SELECT o.o_custkey, count(DISTINCT l.l_partkey) FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey GROUP BY 1',
      'SELECT count(*) FROM lineitem WHERE l_orderkey = 5 AND l_partkey IN (SELECT p_partkey FROM part WHERE p_size > 10)',
      'WITH big AS (SELECT p_partkey FROM part WHERE p_size > 20) SELECT count(*) FROM lineitem, big WHERE l_partkey = big.p_partkey',
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT count(*) FROM n JOIN orders ON o_custkey = i',
      'SELECT o_orderkey, rank() OVER (PARTITION BY o_custkey ORDER BY o_total DESC) FROM orders',
      'SELECT l_partkey FROM lineitem INTERSECT SELECT p_partkey FROM part WHERE p_size < 25',
      'SELECT DISTINCT ON (o_custkey) o_custkey, o_orderkey FROM orders ORDER BY o_custkey, o_total DESC, o_orderkey',
      'SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY o_total) FROM orders',
      'SELECT e_kind, r_code, count(*) FROM events JOIN regions ON r_value = e_id % 6 GROUP BY 1, 2',
      'SELECT u_name FROM users WHERE u_id IN (SELECT u_id FROM users WHERE u_name > $1)',
      'SELECT n_name, (SELECT count(*) FROM orders WHERE o_custkey = n_nationkey + 1) FROM nation',
    ])
      await expectEqual(sql, sql.includes('$1') ? ['u3'] : undefined);
  });

  it('answers views over sharded tables, created after the coordinator was', async () => {
    for (const c of [sharded, single]) {
      await c.query('CREATE VIEW v_lines AS SELECT * FROM lineitem WHERE l_quantity > 10');
      await c.query('CREATE VIEW v_big AS SELECT l_orderkey FROM v_lines WHERE l_quantity > 30');
    }
    await expectEqual('SELECT count(*) FROM v_lines');
    await expectEqual('SELECT count(*), sum(l_orderkey) FROM v_big');
  });

  it('takes parameters, binary results and row limits through the extended protocol', async () => {
    const sql =
      'SELECT o.o_orderkey, sum(l.l_quantity)::int8 FROM orders o JOIN lineitem l ON l.l_partkey = o.o_orderkey ' +
      'WHERE o.o_total > $1 GROUP BY 1 ORDER BY 1';
    await expectEqual(sql, [100]);
    const binary = await connect({ ...proxy.client(), binary: true } as pg.ClientConfig);
    const plain = await connect({ ...directConfig('sharding_coordinator'), binary: true } as pg.ClientConfig);
    try {
      const raw = { text: sql, values: [100], rowMode: 'array', types: rawTypes } as const;
      const got = await binary.query(raw);
      const want = await plain.query(raw);
      expect(got.rows).toEqual(want.rows);
      expect(got.rows.length).toBeGreaterThan(3);
      const cursor = sharded.query(new Cursor(sql, [100], { rowMode: 'array' }));
      const batches: unknown[][] = [];
      for (let i = 0; i < 100; i++) {
        const batch = await cursor.read(2);
        if (batch.length === 0) break;
        expect(batch.length).toBeLessThanOrEqual(2);
        batches.push(...batch);
      }
      await cursor.close();
      const text = await single.query({ text: sql, values: [100], rowMode: 'array' });
      expect(batches).toEqual(text.rows);
      // The binary answer is not the text one: the client's result format reached the coordinator.
      const asText = await single.query({ ...raw });
      expect(got.rows).not.toEqual(asText.rows);
    } finally {
      await binary.end();
      await plain.end();
    }
  });

  it('passes a cancel request on to the coordinator', async () => {
    const c = await connect(proxy.client());
    const slow = 'SELECT pg_sleep(30), count(*) FROM lineitem l JOIN part p ON p.p_partkey = l.l_partkey';
    const sleeping =
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30), count%'";
    try {
      const running = c.query(slow).then(
        () => null,
        (e: Error & { code: string }) => e,
      );
      await waitFor(async () => (await coordinator.query(sleeping)).rows[0].n === 1, {
        what: 'the coordinator to run the statement',
      });
      const keys = c as unknown as { processID: number; secretKey: number };
      const cancel = await RawConnection.connect(proxy.port);
      cancel.write(fe.cancelRequest(keys.processID, keys.secretKey));
      await cancel.closed;
      expect(await running).toMatchObject({ code: '57014' });
      await expectEqual('SELECT count(*) FROM lineitem l JOIN part p ON p.p_partkey = l.l_partkey');
    } finally {
      await c.end();
    }
  });

  it('sees a column added through the proxy', async () => {
    for (const c of [sharded, single]) await c.query('ALTER TABLE part ADD COLUMN p_extra int4 DEFAULT 7');
    await expectEqual('SELECT p_extra, count(*) FROM part JOIN lineitem ON l_partkey = p_partkey GROUP BY 1');
  });

  it('refuses a read that needs the coordinator in a block that wrote on shards', async () => {
    await sharded.query('BEGIN');
    await sharded.query('INSERT INTO part VALUES (1000, 1, $1)', ['new']);
    const refused = await answer(
      sharded,
      'SELECT count(*) FROM lineitem l JOIN part p ON p.p_partkey = l.l_partkey',
    );
    expect(refused).toMatchObject({ error: '0A000' });
    await sharded.query('ROLLBACK');
    await sharded.query('BEGIN');
    await expectEqual('SELECT count(*) FROM lineitem l JOIN part p ON p.p_partkey = l.l_partkey');
    await sharded.query('COMMIT');
  });

  it('shows the coordinator and what it sends to each shard in EXPLAIN ROUTE', async () => {
    const r = await sharded.query(
      'EXPLAIN ROUTE SELECT count(*) FROM lineitem l JOIN part p ON p.p_partkey = l.l_partkey',
    );
    const lines = r.rows.map((row) => Object.values(row)[0] as string);
    expect(lines[0]).toMatch(/^Coordinator database=.*app_coordinator sql=/);
    expect(lines.some((l) => /Push .*sql=.*lineitem/.test(l))).toBe(true);
  });
});

describe('reference tables on the coordinator', () => {
  it('are local copies that follow every write through the proxy', async () => {
    const kind = await coordinator.query(
      "SELECT relkind FROM pg_class WHERE oid = 'public.nation'::regclass",
    );
    expect(kind.rows).toEqual([{ relkind: 'r' }]);
    // Off the shard keys (lineitem and part), so the coordinator answers it.
    const read =
      'SELECT n_name, count(*), sum(l_quantity) FROM lineitem JOIN part ON p_partkey = l_partkey JOIN nation ON n_nationkey = p_partkey % 7 GROUP BY 1';
    await expectEqual(read);
    for (const write of [
      "INSERT INTO nation VALUES (5, 'n5'), (6, 'n6')",
      "UPDATE nation SET n_name = 'renamed' WHERE n_nationkey = 2",
      'DELETE FROM nation WHERE n_nationkey = 0',
    ]) {
      for (const c of [sharded, single]) await c.query(write);
      await expectEqual(read);
    }
    // A transaction that deletes one row and inserts another leaves the count as it was.
    for (const c of [sharded, single]) {
      await c.query('BEGIN');
      await c.query('DELETE FROM nation WHERE n_nationkey = 6');
      await c.query("INSERT INTO nation VALUES (0, 'back')");
      await c.query('COMMIT');
    }
    await expectEqual(read);
  });
});
