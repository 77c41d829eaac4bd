// Read-your-writes beyond one connection, against a real primary and two replicas (one 400 ms behind): a
// connection pool writing on one connection and reading on another, application scopes, and the token
// (SHOW polyproxy.write_lsn / SET polyproxy.min_lsn) passed between two clients.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type PgServer } from '../../src/sandbox/postgres.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { startRedis } from '../../src/sandbox/redis.js';
import { createAppDatabase, shardedDatabasesYaml } from './sharding-helpers.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import {
  directTo,
  replicasCaughtUp,
  routingDatabasesYaml,
  type RoutingDatabaseOptions,
} from './helpers/routing.js';
import { connect, sleep, withClient } from './helpers/tools.js';

let cluster: Cluster;
let primary: PgServer;
let replicas: PgServer[];

beforeAll(async () => {
  cluster = await startCluster({ shards: 1, replicasPerShard: 2, delayedReplicaMs: 400 });
  ({ primary, replicas } = cluster.shards[0]);
  await primary.psql('CREATE DATABASE app');
  await withClient(directTo(primary), (c) =>
    c.query('CREATE TABLE ryw (id serial PRIMARY KEY, v text NOT NULL)'),
  );
  await replicasCaughtUp({ primary, replicas });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

const started: TestProxy[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.close()));
});

async function proxyWith(opts: Partial<RoutingDatabaseOptions> = {}): Promise<TestProxy> {
  const p = await startTestProxy({
    databasesYaml: routingDatabasesYaml({
      password: cluster.password,
      primary,
      replicas,
      poolSize: 8,
      ...opts,
    }),
  });
  started.push(p);
  return p;
}

const onReplica = (port: number) => replicas.some((r) => r.port === port);

/** Inserts a row through `writer` and reads it back through `reader`: whether the read saw it, and where it ran. */
async function writeThenRead(
  writer: pg.Client | pg.Pool,
  reader: pg.Client | pg.Pool,
  i: number,
): Promise<{ seen: boolean; port: number }> {
  const { rows } = await writer.query('INSERT INTO ryw (v) VALUES ($1) RETURNING id', [`w${i}`]);
  const r = await reader.query(
    'SELECT inet_server_port() AS port, count(*)::int AS n FROM ryw WHERE id = $1',
    [rows[0].id],
  );
  return { seen: r.rows[0].n === 1, port: r.rows[0].port };
}

describe("read-your-writes across a client's pool (scope user, the default)", () => {
  it('a read on another pooled connection sees the write at once: 0 stale reads over 100 writes', async () => {
    const proxy = await proxyWith();
    const pool = new pg.Pool({ ...proxy.client(), max: 8 });
    pool.on('error', () => {});
    try {
      // Hold two connections of the pool so the write and the read go out on different ones.
      const [a, b] = [await pool.connect(), await pool.connect()];
      const results = [];
      try {
        for (let i = 0; i < 100; i++) results.push(await writeThenRead(a, b, i));
      } finally {
        a.release();
        b.release();
      }
      expect(results.filter((r) => !r.seen)).toEqual([]);
      // Once every replica has replayed the writes, reads go back to the replicas.
      await sleep(1500);
      const ports: number[] = [];
      for (let i = 0; i < 40; i++)
        ports.push((await pool.query('SELECT inet_server_port() AS port')).rows[0].port as number);
      expect(ports.filter(onReplica).length / ports.length).toBeGreaterThanOrEqual(0.8);
    } finally {
      await pool.end();
    }
  });

  it('with scope connection, another connection of the same user may read a replica that has not replayed the write', async () => {
    const proxy = await proxyWith({ routing: { read_your_writes: 'connection' } });
    const [a, b] = [await connect(proxy.client()), await connect(proxy.client())];
    try {
      const results = [];
      for (let i = 0; i < 40; i++) results.push(await writeThenRead(a, b, i));
      // The delayed replica serves some of b's reads before it replayed a's insert: the scope matters.
      expect(results.filter((r) => !r.seen).length).toBeGreaterThan(0);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it("with scope application, a connection of another application_name is not held back by this one's writes", async () => {
    const proxy = await proxyWith({ routing: { read_your_writes: 'application' } });
    const cfg = proxy.client();
    const a = await connect({ ...cfg, application_name: 'orders' });
    const sameApp = await connect({ ...cfg, application_name: 'orders' });
    const otherApp = await connect({ ...cfg, application_name: 'reports' });
    try {
      const same = [];
      const other = [];
      for (let i = 0; i < 40; i++) {
        same.push(await writeThenRead(a, sameApp, i));
        other.push(await writeThenRead(a, otherApp, 100 + i));
      }
      expect(same.filter((r) => !r.seen)).toEqual([]);
      expect(other.filter((r) => onReplica(r.port)).length).toBeGreaterThan(0);
    } finally {
      await Promise.all([a.end(), sameApp.end(), otherApp.end()]);
    }
  });
});

describe('the read-your-writes token across services', () => {
  it('SHOW polyproxy.write_lsn on the writer and SET polyproxy.min_lsn on the reader: the reader sees the write', async () => {
    // Scope connection, so only the token can carry the writer's position to the reader.
    const proxy = await proxyWith({ routing: { read_your_writes: 'connection' } });
    const [writer, reader] = [await connect(proxy.client()), await connect(proxy.client())];
    try {
      expect((await writer.query('SHOW polyproxy.write_lsn')).rows).toEqual([{ 'polyproxy.write_lsn': '' }]);
      const seen: boolean[] = [];
      for (let i = 0; i < 30; i++) {
        const { rows } = await writer.query('INSERT INTO ryw (v) VALUES ($1) RETURNING id', [`t${i}`]);
        const token = (await writer.query('SHOW polyproxy.write_lsn')).rows[0][
          'polyproxy.write_lsn'
        ] as string;
        expect(token).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
        if (i % 2 === 0) await reader.query(`SET polyproxy.min_lsn = '${token}'`);
        const sql =
          i % 2 === 0
            ? 'SELECT count(*)::int AS n FROM ryw WHERE id = $1'
            : `/* polyproxy: min_lsn=${token} */ SELECT count(*)::int AS n FROM ryw WHERE id = $1`;
        seen.push((await reader.query(sql, [rows[0].id])).rows[0].n === 1);
      }
      expect(seen.filter((s) => !s)).toEqual([]);
      await reader.query('RESET polyproxy.min_lsn');
      const bad = await reader.query("SET polyproxy.min_lsn = 'soon'").catch((e: { code?: string }) => e);
      expect((bad as { code?: string }).code).toBe('22023');
    } finally {
      await Promise.all([writer.end(), reader.end()]);
    }
  });
});

describe('read-your-writes across proxy instances sharing Redis', () => {
  it('a read through another instance sees the write at once; with Redis gone, reads still run', async () => {
    const redis = await startRedis();
    try {
      const routing = { read_your_writes_redis: redis.url };
      const [one, two] = [await proxyWith({ routing }), await proxyWith({ routing })];
      await waitFor(async () => (await metric(one, 'polyproxy_read_your_writes_shared_up')) === 1, {
        what: 'instance one to subscribe',
      });
      await waitFor(async () => (await metric(two, 'polyproxy_read_your_writes_shared_up')) === 1, {
        what: 'instance two to subscribe',
      });
      const [writer, reader] = [await connect(one.client()), await connect(two.client())];
      try {
        const results = [];
        for (let i = 0; i < 60; i++) results.push({ i, ...(await writeThenRead(writer, reader, 1000 + i)) });
        expect(results.filter((r) => !r.seen)).toEqual([]);
        await redis.stop();
        await waitFor(async () => (await metric(two, 'polyproxy_read_your_writes_shared_up')) === 0, {
          what: 'instance two to notice Redis is gone',
        });
        // Never a failed read: each instance goes on with its own positions.
        for (let i = 0; i < 10; i++) await writeThenRead(writer, reader, 2000 + i);
      } finally {
        await Promise.all([writer.end(), reader.end()]);
      }
    } finally {
      await redis.stop();
    }
  });
});

/** A gauge's value (the first sample) from an instance's /metrics. */
async function metric(proxy: TestProxy, name: string): Promise<number | null> {
  const text = await (await fetch(`http://127.0.0.1:${proxy.adminPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
  return line ? Number(line.trim().split(' ').at(-1)) : null;
}

describe('read-your-writes by scope on a sharded database', () => {
  let shardCluster: Cluster;
  beforeAll(async () => {
    shardCluster = await startCluster({ shards: 2, replicasPerShard: 1, delayedReplicaMs: 400 });
    await createAppDatabase(shardCluster);
    await Promise.all(
      shardCluster.shards.map((s) =>
        withClient(directTo(s.primary), (c) => c.query('CREATE TABLE kv (id int PRIMARY KEY, v text)')),
      ),
    );
  }, 180_000);
  afterAll(async () => {
    await shardCluster?.stop();
  });

  async function shardedProxy(scope: string): Promise<TestProxy> {
    const p = await startTestProxy({
      databasesYaml: shardedDatabasesYaml({
        cluster: shardCluster,
        sharding: { tables: { kv: 'id' } },
        replicas: true,
      }).replace('    sharding:', `    routing: { read_your_writes: ${scope} }\n    sharding:`),
    });
    started.push(p);
    return p;
  }

  async function staleReads(proxy: TestProxy, base: number): Promise<number> {
    const [a, b] = [await connect(proxy.client()), await connect(proxy.client())];
    try {
      let stale = 0;
      for (let i = 0; i < 40; i++) {
        await a.query('INSERT INTO kv VALUES ($1, $2)', [base + i, 'x']);
        const r = await b.query('SELECT count(*)::int AS n FROM kv WHERE id = $1', [base + i]);
        if (r.rows[0].n !== 1) stale++;
      }
      return stale;
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  }

  it('a read by key on another connection of the user sees the write on its shard', async () => {
    // Whether per-connection scope reads stale rows here depends on timing; the unsharded tests show the scope matters.
    expect(await staleReads(await shardedProxy('user'), 0)).toBe(0);
  });
});
