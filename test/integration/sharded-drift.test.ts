// Sharded and unsharded databases behave alike: the Redis result cache serves sharded reads and forgets a table
// written on any shard, route hints and SET polyproxy.route pick primary or replica, and the greeting echoes
// the client's startup settings as PostgreSQL does.
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startRedis, type RedisServer } from '../../src/sandbox/redis.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import {
  bind,
  execute,
  firstColumns,
  parse,
  query,
  RawConnection,
  sync,
  types,
} from './helpers/raw-client.js';
import { connect, rejection } from './helpers/tools.js';
import { createAppDatabase, shardClient, shardedDatabasesYaml } from './sharding-helpers.js';
import { hashShard } from '../../src/router/sharding/pg-hash.js';

let cluster: Cluster;
let redis: RedisServer;
let proxy: TestProxy;
let app: pg.Client;
let shards: pg.Client[];

/** The first key from `from` that hash sharding over two shards places on `shard`. */
function keyOn(shard: number, from: number): number {
  for (let k = from; ; k++) if (hashShard('int', BigInt(k), 2) === shard) return k;
}

/** The same two shards as an unsharded database `plain` (shard 0 and its replica): the reference behaviour. */
function plainYaml(c: Cluster): string {
  const s = c.shards[0];
  const db = {
    backend: { user: 'postgres', password: c.password, database: 'app', connect_timeout: '5s' },
    pool: { mode: 'transaction', size: 4, acquire_timeout: '10s' },
    shards: [
      {
        primary: `${s.primary.host}:${s.primary.port}`,
        replicas: [`${s.replicas[0].host}:${s.replicas[0].port}`],
      },
    ],
  };
  return stringify({ plain: db })
    .split('\n')
    .map((line) => (line ? `  ${line}` : line))
    .join('\n');
}

/** A counter from the proxy's /metrics, summed over its labels. */
async function metric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proxy.adminPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').at(-1));
  return sum;
}

/** Rows of a query over every shard directly, in the order of `by`. */
async function onAllShards(sql: string, by: (r: Record<string, unknown>) => number): Promise<unknown[]> {
  const rows = (await Promise.all(shards.map((s) => s.query(sql)))).flatMap((r) => r.rows);
  return rows.sort((a, b) => by(a) - by(b));
}

beforeAll(async () => {
  [cluster, redis] = await Promise.all([startCluster({ shards: 2, replicasPerShard: 1 }), startRedis()]);
  await createAppDatabase(cluster);
  const sharded = shardedDatabasesYaml({
    cluster,
    replicas: true,
    sharding: { tables: { items: 'id', spots: 'id' } },
  });
  proxy = await startTestProxy({
    databasesYaml: `${sharded}\n${plainYaml(cluster)}`,
    pluginsYaml: `  cache: { redis: ${JSON.stringify(redis.url)}, tables: [items], default_ttl: 60s, timeout: 500ms }`,
  });
  app = await connect(proxy.client());
  await app.query('CREATE TABLE items (id int8 PRIMARY KEY, label text, price numeric(10,2))');
  // Not cached: where a read ran shows in its answer.
  await app.query('CREATE TABLE spots (id int8 PRIMARY KEY)');
  const spots = Array.from({ length: 24 }, (_, i) => `(${i + 1})`).join(', ');
  await app.query(`INSERT INTO spots VALUES ${spots}`);
  for (let id = 1; id <= 24; id++)
    await app.query('INSERT INTO items VALUES ($1, $2, $3)', [id, `item ${id}`, (id * 1.25).toFixed(2)]);
  shards = await Promise.all(cluster.shards.map((_, i) => connect(shardClient(cluster, i))));
  // The table and its rows reach the replicas.
  for (const [i, s] of cluster.shards.entries()) {
    const count = 'SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM spots)';
    const rows = (await shards[i].query(`${count} AS n`)).rows[0].n as string;
    await waitFor(async () => (await s.replicas[0].psql(count, 'app')).trim() === rows || null, {
      what: 'the rows on the replica',
      timeoutMs: 20_000,
    });
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([app?.end(), ...(shards ?? []).map((s) => s.end())]);
  await proxy?.close();
  await Promise.all([cluster?.stop(), redis?.stop()]);
});

describe('the result cache on a sharded database', () => {
  const single = (id: number) => `SELECT id, label, price FROM items WHERE id = ${id}`;

  it('answers single-shard and scattered reads from Redis, equal to the shards’ own answer', async () => {
    const cases: [string, unknown[], unknown[]][] = [
      [single(3), [], await onAllShards(`${single(3)}`, (r) => Number(r.id))],
      [
        'SELECT id, label, price FROM items WHERE id = $1',
        [keyOn(1, 5)],
        await onAllShards(single(keyOn(1, 5)), (r) => Number(r.id)),
      ],
      [
        'SELECT id, label FROM items ORDER BY id',
        [],
        await onAllShards('SELECT id, label FROM items', (r) => Number(r.id)),
      ],
      ['SELECT count(*) AS n, sum(price) AS total FROM items', [], [{ n: '24', total: '375.00' }]],
    ];
    const hits = await metric('polyproxy_plugin_cache_hits_total');
    for (const [sql, params, expected] of cases) {
      const miss = await app.query(sql, params);
      const hit = await app.query(sql, params);
      expect(miss.rows).toEqual(expected);
      expect(hit.rows).toEqual(miss.rows);
      expect(hit.fields.map((f) => [f.name, f.dataTypeID])).toEqual(
        miss.fields.map((f) => [f.name, f.dataTypeID]),
      );
      expect(hit.command).toBe(miss.command);
    }
    expect((await metric('polyproxy_plugin_cache_hits_total')) - hits).toBeGreaterThanOrEqual(cases.length);
  });

  it('serves a cached answer even when a shard changed behind the proxy’s back (it is the cache)', async () => {
    const id = keyOn(0, 7);
    expect((await app.query(single(id))).rows[0].label).toBe(`item ${id}`);
    await shards[0].query("UPDATE items SET label = 'behind' WHERE id = $1", [id]);
    expect((await app.query(single(id))).rows[0].label).toBe(`item ${id}`);
    await shards[0].query('UPDATE items SET label = $2 WHERE id = $1', [id, `item ${id}`]);
  });

  it('forgets a table written through the proxy on any shard: the next read sees the write', async () => {
    const other = await connect(proxy.client());
    try {
      for (const shard of [0, 1]) {
        const id = keyOn(shard, 30 + shard * 20);
        const count = 'SELECT count(*) AS n FROM items';
        const before = Number((await other.query(count)).rows[0].n);
        expect(Number((await other.query(count)).rows[0].n)).toBe(before);
        await app.query('INSERT INTO items VALUES ($1, $2, 1)', [id, `new ${id}`]);
        expect(Number((await other.query(count)).rows[0].n)).toBe(before + 1);
        // In a transaction block, through the extended protocol, and read by key (one shard) afterwards.
        expect((await other.query('SELECT label FROM items WHERE id = $1', [id])).rows).toEqual([
          { label: `new ${id}` },
        ]);
        await app.query('BEGIN');
        await app.query('UPDATE items SET label = $2 WHERE id = $1', [id, `changed ${id}`]);
        await app.query('COMMIT');
        expect((await other.query('SELECT label FROM items WHERE id = $1', [id])).rows).toEqual([
          { label: `changed ${id}` },
        ]);
        await app.query('DELETE FROM items WHERE id = $1', [id]);
        expect(Number((await other.query(count)).rows[0].n)).toBe(before);
      }
    } finally {
      await other.end();
    }
  });

  it('answers postgres.js named prepared statements from the cache, and sees writes', async () => {
    const sql = postgres(proxy.url(), { max: 1, prepare: true, onnotice: () => {} });
    try {
      const id = keyOn(1, 10);
      const read = () => sql`SELECT id::int AS id, label FROM items WHERE id = ${id}`;
      const direct = await shards[1].query('SELECT id::int AS id, label FROM items WHERE id = $1', [id]);
      const hits = await metric('polyproxy_plugin_cache_hits_total');
      for (let i = 0; i < 3; i++) expect([...(await read())]).toEqual(direct.rows);
      expect(await metric('polyproxy_plugin_cache_hits_total')).toBeGreaterThan(hits);
      await sql`UPDATE items SET label = 'via postgres.js' WHERE id = ${id}`;
      expect([...(await read())]).toEqual([{ id, label: 'via postgres.js' }]);
      await sql`UPDATE items SET label = ${`item ${id}`} WHERE id = ${id}`;
    } finally {
      await sql.end();
    }
  });
});

describe('the result cache across rounds', () => {
  it.each(['app', 'plain'])(
    'does not answer a Query from a result kept without its RowDescription (%s)',
    async (database) => {
      const text = 'SELECT id, label FROM items WHERE id < 4 ORDER BY id';
      const { conn } = await RawConnection.login(proxy.port, {
        user: 'app',
        password: 'app-secret',
        database,
      });
      try {
        conn.write(Buffer.concat([parse('s1', text), sync]));
        await conn.untilReady();
        // Bind and Execute without Describe (as postgres.js sends a prepared statement): the reply has no RowDescription.
        const direct = await shards[0].query(text);
        const ids = database === 'app' ? ['1', '2', '3'] : direct.rows.map((r) => String(r.id));
        const rows = 'D'.repeat(ids.length);
        for (let i = 0; i < 2; i++) {
          conn.write(Buffer.concat([bind('', 's1'), execute(), sync]));
          const reply = await conn.untilReady();
          expect([types(reply), firstColumns(reply)]).toEqual([`2${rows}CZ`, ids]);
        }
        conn.write(query(text));
        const reply = await conn.untilReady();
        expect([types(reply), firstColumns(reply)]).toEqual([`T${rows}CZ`, ids]);
      } finally {
        conn.socket.destroy();
      }
    },
  );
});

describe('route hints and SET polyproxy.route on a sharded database', () => {
  const where = 'SELECT pg_is_in_recovery() AS r FROM spots WHERE id = 1';
  // Counts rows on replicas only: the total on replicas, 0 on primaries (over both shards).
  const scattered = 'SELECT count(*) AS n FROM spots WHERE pg_is_in_recovery()';

  it('sends a hinted read to the primary or a replica of its shard, in both protocols', async () => {
    const c = await connect(proxy.client());
    try {
      // A read goes to a replica once the replicas have replayed this user's writes.
      await waitFor(async () => (await c.query(where)).rows[0].r === true || null, {
        what: 'a read on a replica',
        timeoutMs: 20_000,
      });
      expect((await c.query(`/* polyproxy: primary */ ${where}`)).rows).toEqual([{ r: false }]);
      expect((await c.query(`/* polyproxy: primary */ ${where.replace('1', '$1')}`, [1])).rows).toEqual([
        { r: false },
      ]);
      expect((await c.query(`/* polyproxy: primary */ ${scattered}`)).rows).toEqual([{ n: '0' }]);
      expect((await c.query(`/* polyproxy: replica */ ${where}`)).rows).toEqual([{ r: true }]);
    } finally {
      await c.end();
    }
  });

  it('routes the rest of the session by SET polyproxy.route, until RESET', async () => {
    const c = await connect(proxy.client());
    try {
      expect((await c.query('SET polyproxy.route = primary')).command).toBe('SET');
      expect((await c.query(where)).rows).toEqual([{ r: false }]);
      expect((await c.query(where.replace('1', '$1'), [1])).rows).toEqual([{ r: false }]);
      expect((await c.query(scattered)).rows).toEqual([{ n: '0' }]);
      expect((await c.query(`/* polyproxy: replica */ ${where}`)).rows).toEqual([{ r: true }]);
      await c.query('SET polyproxy.route = replica');
      expect((await c.query(where)).rows).toEqual([{ r: true }]);
      expect(Number((await c.query(scattered)).rows[0].n)).toBeGreaterThan(0);
      // Writes stay on the primary: a replica would only refuse them.
      await c.query('INSERT INTO spots VALUES ($1)', [1000]);
      await c.query('INSERT INTO spots VALUES (1001)');
      expect((await c.query('DELETE FROM spots WHERE id >= 1000')).rowCount).toBe(2);
      await c.query('RESET polyproxy.route');
      expect((await c.query(`/* polyproxy: primary */ ${where}`)).rows).toEqual([{ r: false }]);
    } finally {
      await c.end();
    }
  });

  it('refuses an invalid value with the error an unsharded database gives', async () => {
    const answers = [];
    for (const database of ['app', 'plain']) {
      const c = await connect(proxy.client('app', database));
      try {
        const err = (await rejection(c.query('SET polyproxy.route = sideways'))) as Error & { code?: string };
        answers.push({
          code: err.code,
          message: err.message,
          after: (await c.query('SELECT 1 AS one')).rows,
        });
      } finally {
        await c.end();
      }
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0].code).toBe('22023');
  });
});

describe('the greeting on a sharded database', () => {
  const params = {
    application_name: 'drift-check',
    DateStyle: 'SQL, DMY',
    TimeZone: 'Europe/Paris',
    IntervalStyle: 'iso_8601',
    client_encoding: 'utf8',
  };
  const echoed = [
    'application_name',
    'DateStyle',
    'TimeZone',
    'IntervalStyle',
    'client_encoding',
    'standard_conforming_strings',
  ];

  async function greeting(port: number, user: string, password: string, database: string) {
    const { conn, params: shown } = await RawConnection.login(port, { user, password, database, params });
    conn.socket.destroy();
    return Object.fromEntries(echoed.map((k) => [k, shown.get(k)]));
  }

  it('echoes the client’s startup settings as PostgreSQL and the unsharded database do', async () => {
    const primary = cluster.shards[0].primary;
    const expected = await greeting(primary.port, 'postgres', cluster.password, 'app');
    expect(expected.DateStyle).toBe('SQL, DMY');
    expect(await greeting(proxy.port, 'app', 'app-secret', 'app')).toEqual(expected);
    expect(await greeting(proxy.port, 'app', 'app-secret', 'plain')).toEqual(expected);
  });

  it('applies them on the shards', async () => {
    const c = new pg.Client({ ...proxy.client(), application_name: 'drift-check' });
    await c.connect();
    try {
      const shown = await c.query("SELECT current_setting('application_name') AS a FROM items WHERE id = 1");
      expect(shown.rows).toEqual([{ a: 'drift-check' }]);
    } finally {
      await c.end();
    }
  });
});
