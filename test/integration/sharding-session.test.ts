// A sharded database through the proxy: routing by key, scatter-gather, distributed writes, DDL, COPY, errors.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import postgres from 'postgres';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import * as fe from '../../src/protocol/frontend-messages.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { RawConnection } from './helpers/raw-client.js';
import { connect } from './helpers/tools.js';
import { hundredRanges, listSharding, startShardedRig, type ShardedRig } from './sharding-helpers.js';

let rig: ShardedRig;
let client: pg.Client;

/** Rows of a table on each shard, read directly. */
async function perShard(sql: string): Promise<unknown[][]> {
  return Promise.all(rig.direct.map(async (d) => (await d.query({ text: sql, rowMode: 'array' })).rows));
}

beforeAll(async () => {
  rig = await startShardedRig({
    sharding: {
      tables: {
        users: 'id',
        orders: 'user_id',
        events: hundredRanges('day'),
        tenants: listSharding('region', [
          [2, ['eu', 'uk']],
          [0, ['us']],
        ]),
      },
      reference: ['countries'],
      // The native plans' own refusals are under test: no coordinator answers for them.
      coordinator: 'off',
    },
    direct: true,
  });
  client = rig.sharded;
});

afterAll(() => rig?.stop());

describe('sharded session', () => {
  it('runs DDL on every shard', async () => {
    await client.query('CREATE TABLE users (id int8 PRIMARY KEY, name text, score int)');
    await client.query('CREATE TABLE orders (id int8, user_id int8, amount numeric(10,2))');
    await client.query('CREATE TABLE countries (code text PRIMARY KEY, name text)');
    const tables = await perShard(
      "SELECT count(*)::int FROM pg_tables WHERE tablename IN ('users','orders','countries')",
    );
    expect(tables).toEqual([[[3]], [[3]], [[3]]]);
  });

  it('splits a multi-row INSERT by key; every row lands where hash partitioning puts it', async () => {
    const values = Array.from({ length: 30 }, (_, i) => `(${i + 1}, 'user${i + 1}', ${i % 7})`).join(', ');
    const r = await client.query(`INSERT INTO users (id, name, score) VALUES ${values}`);
    expect(r.rowCount).toBe(30);
    const ids = await perShard('SELECT id::int FROM users ORDER BY id');
    ids.forEach((rows, shard) => {
      expect(rows.length).toBeGreaterThan(0);
      for (const [id] of rows as [number][]) expect(hashShard('int', BigInt(id), 3)).toBe(shard);
    });
  });

  it('reads one key from its shard and merges ordered, limited and aggregated reads', async () => {
    expect((await client.query('SELECT name FROM users WHERE id = $1', [7])).rows).toEqual([
      { name: 'user7' },
    ]);
    const ordered = await client.query('SELECT id FROM users ORDER BY id DESC LIMIT 3 OFFSET 1');
    expect(ordered.rows.map((r) => Number(r.id))).toEqual([29, 28, 27]);
    const agg = await client.query('SELECT count(*), sum(score), avg(score), max(name) FROM users');
    expect(agg.rows[0]).toEqual({ count: '30', sum: '85', avg: '2.8333333333333333', max: 'user9' });
    expect(agg.fields.map((f) => f.dataTypeID)).toEqual([20, 20, 1700, 25]);
  });

  it('answers EXPLAIN ROUTE with the plan tree', async () => {
    const r = await client.query(
      'EXPLAIN ROUTE SELECT score, count(*) FROM users GROUP BY score ORDER BY score',
    );
    const lines = r.rows.map((x) => x.route as string);
    expect(lines[0]).toBe('Gather shards=[0,1,2] reason=no-shard-key');
    expect(lines[1]).toBe('  Sort keys=[$1]');
    expect(lines[2]).toMatch(/^ {4}Aggregate group=\[\$1\]/);
    expect(lines[3]).toMatch(/^ {6}Route shards=\[0,1,2\]/);
  });

  it('commits a transaction over several shards and rolls one back', async () => {
    await client.query('BEGIN');
    await client.query("INSERT INTO users (id, name) VALUES (101, 'a')");
    await client.query("INSERT INTO users (id, name) VALUES (102, 'b'), (103, 'c'), (104, 'd')");
    await client.query('COMMIT');
    await client.query('BEGIN');
    await client.query("INSERT INTO users (id, name) VALUES (105, 'e'), (106, 'f'), (107, 'g')");
    await client.query('ROLLBACK');
    const r = await client.query('SELECT id FROM users WHERE id > 100 ORDER BY id');
    expect(r.rows.map((x) => Number(x.id))).toEqual([101, 102, 103, 104]);
    const prepared = await perShard('SELECT count(*)::int FROM pg_prepared_xacts');
    expect(prepared).toEqual([[[0]], [[0]], [[0]]]);
  });

  it('runs the statements of one simple query as one transaction, as PostgreSQL does', async () => {
    // 201 and 202 land on different shards; the third statement fails, so neither insert may stay.
    await expect(
      client.query(
        "INSERT INTO users (id, name) VALUES (201, 'x'); INSERT INTO users (id, name) VALUES (202, 'y'); SELECT 1/0",
      ),
    ).rejects.toMatchObject({ code: '22012' });
    expect((await client.query('SELECT count(*) AS n FROM users WHERE id IN (201, 202)')).rows).toEqual([
      { n: '0' },
    ]);
    await client.query(
      "INSERT INTO users (id, name) VALUES (201, 'x'); INSERT INTO users (id, name) VALUES (202, 'y')",
    );
    expect((await client.query('SELECT count(*) AS n FROM users WHERE id IN (201, 202)')).rows).toEqual([
      { n: '2' },
    ]);
    await client.query('DELETE FROM users WHERE id IN (201, 202)');
  });

  it('forwards a single-shard simple query as it is: rows, errors and large replies', async () => {
    expect((await client.query('SELECT name FROM users WHERE id = 7')).rows).toEqual([{ name: 'user7' }]);
    await expect(client.query('SELECT 1 / (score - score) FROM users WHERE id = 7')).rejects.toMatchObject({
      code: '22012',
    });
    // 200,000 rows from one shard through a client that reads them all: the shard's socket waits for it.
    const big = await client.query(
      'SELECT g, u.name FROM users u, generate_series(1, 200000) g WHERE u.id = 7',
    );
    expect(big.rowCount).toBe(200000);
    expect(big.rows[199999]).toEqual({ g: 200000, name: 'user7' });
    const explain = await client.query('EXPLAIN ROUTE SELECT name FROM users WHERE id = 7');
    expect(explain.rows[0].route).toMatch(/^SingleShard shard=\d access=read reason=shard-key/);
  });

  it('runs RESET ALL on the shards rather than taking it for a route setting', async () => {
    await client.query("SET work_mem = '7MB'");
    expect((await client.query('RESET ALL')).command).toBe('RESET');
    expect((await client.query('SHOW work_mem')).rows).toEqual([{ work_mem: '4MB' }]);
  });

  it('updates and deletes across shards with summed row counts', async () => {
    expect((await client.query('UPDATE users SET score = score + 1 WHERE id <= 30')).rowCount).toBe(30);
    expect((await client.query('DELETE FROM users WHERE id > 100')).rowCount).toBe(4);
  });

  it('copies reference tables to every shard', async () => {
    await client.query("INSERT INTO countries VALUES ('nl', 'Netherlands'), ('fr', 'France')");
    expect(await perShard('SELECT count(*)::int FROM countries')).toEqual([[[2]], [[2]], [[2]]]);
    const joined = await client.query(
      "SELECT c.name FROM users u JOIN countries c ON c.code = 'nl' WHERE u.id = 3",
    );
    expect(joined.rows).toEqual([{ name: 'Netherlands' }]);
  });

  it('splits COPY FROM STDIN by key', async () => {
    const stream = client.query(copyFrom('COPY orders (id, user_id, amount) FROM STDIN WITH (FORMAT csv)'));
    const lines = Array.from({ length: 60 }, (_, i) => `${i + 1},${(i % 30) + 1},${(i + 1) * 1.5}\n`);
    await pipeline(Readable.from(lines), stream);
    expect(stream.rowCount).toBe(60);
    const placed = await perShard('SELECT user_id::int FROM orders');
    placed.forEach((rows, shard) => {
      for (const [u] of rows as [number][]) expect(hashShard('int', BigInt(u), 3)).toBe(shard);
    });
    const total = await client.query('SELECT sum(amount) FROM orders');
    expect(total.rows[0].sum).toBe('2745.00');
  });

  it('refuses what it cannot run across shards with 0A000 and a hint', async () => {
    const err = (sql: string) =>
      client.query(sql).then(
        () => null,
        (e: Error & { code: string; hint?: string }) => e,
      );
    const update = await err('UPDATE users SET id = 1000 WHERE id = 1');
    expect(update).toMatchObject({ code: '0A000', message: expect.stringContaining('shard key') });
    const join = await err('SELECT * FROM users u JOIN orders o ON o.id = u.id');
    // The hint names only the statement's own equality: never a join condition that means something else.
    expect(join).toMatchObject({ code: '0A000', hint: expect.stringContaining('sharding "orders" by "id"') });
  });

  it('runs several statements of one simple query in order, and keeps SET for later statements', async () => {
    const multi = (await client.query(
      "SET application_name = 'sharded-test'; SELECT count(*) FROM users; SHOW application_name",
    )) as unknown as pg.QueryResult[];
    expect(multi[1].rows).toEqual([{ count: '30' }]);
    expect(multi[2].rows).toEqual([{ application_name: 'sharded-test' }]);
    const again = await client.query('SELECT DISTINCT current_setting($1) AS s FROM users', [
      'application_name',
    ]);
    expect(again.rows).toEqual([{ s: 'sharded-test' }]);
  });

  it('serves postgres.js (Describe of statements, parameters, a transaction)', async () => {
    const sql = postgres(rig.proxy.url(), { max: 1, onnotice: () => {} });
    try {
      const [one] = await sql`SELECT name FROM users WHERE id = ${5}`;
      expect(one).toEqual({ name: 'user5' });
      const top = await sql`SELECT id, score FROM users ORDER BY score DESC, id LIMIT ${3}`;
      expect(top.map((r) => Number(r.id))).toEqual([7, 14, 21]);
      await sql.begin(async (tx) => {
        await tx`INSERT INTO users (id, name) VALUES (${201}, 'p'), (${202}, 'q'), (${203}, 'r')`;
      });
      const [{ count }] = await sql`SELECT count(*) FROM users WHERE id > 200`;
      expect(count).toBe('3');
    } finally {
      await sql.end();
    }
  });

  it('places rows by range and by list', async () => {
    await client.query('CREATE TABLE events (day int, what text)');
    await client.query('CREATE TABLE tenants (region text, name text)');
    await client.query("INSERT INTO events VALUES (5, 'a'), (150, 'b'), (99, 'c'), (200, 'd'), (1000, 'e')");
    await client.query("INSERT INTO tenants VALUES ('uk', 'x'), ('us', 'y'), ('eu', 'z')");
    expect(await perShard('SELECT day FROM events ORDER BY day')).toEqual([
      [[5], [99]],
      [[150]],
      [[200], [1000]],
    ]);
    expect(await perShard('SELECT region FROM tenants ORDER BY region')).toEqual([
      [['us']],
      [],
      [['eu'], ['uk']],
    ]);
    const e = await client.query("INSERT INTO tenants VALUES ('jp', 'w')").then(
      () => null,
      (x: Error & { code: string }) => x,
    );
    expect(e).toMatchObject({ code: '0A000', message: expect.stringContaining('no shard holds key jp') });
    const r = await client.query('SELECT what FROM events WHERE day = 150');
    expect(r.rows).toEqual([{ what: 'b' }]);
  });

  it('cancels a statement running on several shards on all of them', async () => {
    const c = await connect(rig.proxy.client());
    const sleeping = "SELECT count(*)::int FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'";
    try {
      const slow = c.query('SELECT pg_sleep(30) FROM users WHERE id IN (1, 2, 3)').then(
        () => null,
        (e: Error & { code: string }) => e,
      );
      await waitFor(async () => (await perShard(sleeping)).every((r) => (r as number[][])[0][0] === 1), {
        what: 'every shard to run the statement',
      });
      const keys = c as unknown as { processID: number; secretKey: number };
      const cancel = await RawConnection.connect(rig.proxy.port);
      cancel.write(fe.cancelRequest(keys.processID, keys.secretKey));
      await cancel.closed;
      expect(await slow).toMatchObject({ code: '57014' });
      await waitFor(async () => (await perShard(sleeping)).every((r) => (r as number[][])[0][0] === 0), {
        what: 'every shard to stop the statement',
      });
      expect((await c.query('SELECT count(*) FROM users WHERE id <= 30')).rows).toEqual([{ count: '30' }]);
    } finally {
      await c.end();
    }
  });

  it('reports a DDL failure per shard', async () => {
    await rig.direct[1].query('CREATE TABLE only_on_one (x int)');
    const e = await client.query('CREATE TABLE only_on_one (x int)').then(
      () => null,
      (x: Error & { code: string; hint?: string }) => x,
    );
    expect(e).toMatchObject({ code: '42P07', message: expect.stringContaining('shard 1') });
    expect(e?.hint).toContain('succeeded on shards 0, 2');
  });
});
