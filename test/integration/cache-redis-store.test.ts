// The Redis cache plugin against a real Redis, driven through its hooks as the proxy drives them: hits and
// misses, invalidation across two proxy instances, TTLs, outages, and a randomized race of reads and commits.
import { Redis } from 'ioredis';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BeforeStatementDecision, EncodedResult, Statement } from '../../src/plugins/api.js';
import cachePlugin from '../../src/plugins/builtin/cache-redis/index.js';
import type { CacheConfigInput } from '../../src/plugins/builtin/cache-redis/config.js';
import {
  startRedis,
  startRedisCluster,
  startRedisSentinel,
  type RedisServer,
} from '../../src/sandbox/redis.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { loadParser } from '../../src/sql/parser.js';
import { makeStatement, registerPlugin, type PluginHarness } from '../unit/plugins/cache-redis/harness.js';

let redis: RedisServer;
let admin: Redis;
let prefixCount = 0;
const running: PluginHarness[] = [];

beforeAll(async () => {
  await loadParser();
  redis = await startRedis();
  admin = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  // The tests kill Redis on purpose; this client only needs to reconnect.
  admin.on('error', () => {});
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((plugin) => plugin.stop()));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A proxy instance's cache plugin; each test gets its own key prefix so tests never see each other's keys. */
async function instance(overrides: Partial<CacheConfigInput> = {}, prefix = `t${++prefixCount}:`) {
  const plugin = await registerPlugin(cachePlugin, {
    redis: redis.url,
    tables: ['users', 'orders', 't0', 't1', 't2'],
    key_prefix: prefix,
    timeout: '100ms',
    ...overrides,
  });
  running.push(plugin);
  await plugin.start();
  return plugin;
}

/** Two instances sharing one Redis and one key prefix, as two proxies behind a load balancer. */
async function pair(overrides: Partial<CacheConfigInput> = {}) {
  const prefix = `t${++prefixCount}:`;
  return [await instance(overrides, prefix), await instance(overrides, prefix)] as const;
}

/** A result whose bytes say what was read: the test's stand-in for rows PostgreSQL encoded. */
function result(values: Record<string, number>): EncodedResult {
  return {
    rowDescription: Buffer.from('T-test'),
    dataRows: Buffer.from(JSON.stringify(values)),
    rowCount: 1,
    command: 'SELECT 1',
  };
}
const valuesOf = (answer: EncodedResult) => JSON.parse(answer.dataRows.toString()) as Record<string, number>;

function isCapture(d: BeforeStatementDecision): d is { capture: (r: EncodedResult) => void } {
  return d !== undefined && 'capture' in d;
}
function isAnswer(d: BeforeStatementDecision): d is { answer: EncodedResult } {
  return d !== undefined && 'answer' in d;
}

/** Polls until the instance answers the statement from the cache (stores finish after capture returns). */
async function answered(plugin: PluginHarness, stmt: Statement): Promise<EncodedResult> {
  return waitFor(
    async () => {
      const decision = await plugin.before(stmt);
      return isAnswer(decision) ? decision.answer : undefined;
    },
    { timeoutMs: 5000, intervalMs: 20, what: 'a cache hit' },
  );
}

/** Misses, stores `values` as the result, and waits until the entry serves hits. */
async function cached(plugin: PluginHarness, stmt: Statement, values: Record<string, number>) {
  const decision = await plugin.before(stmt);
  if (!isCapture(decision)) throw new Error(`expected a miss, got ${JSON.stringify(decision)}`);
  decision.capture(result(values));
  expect(valuesOf(await answered(plugin, stmt))).toEqual(values);
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

const users = () => makeStatement('SELECT * FROM users WHERE id = $1', { params: ['1'] });
const orders = () => makeStatement('SELECT * FROM orders');

describe('cache plugin on Redis', () => {
  it('misses, stores the captured result, then answers from Redis, on either instance', async () => {
    const [a, b] = await pair();
    await cached(a, users(), { users: 1 });
    expect(valuesOf(await answered(b, users()))).toEqual({ users: 1 });
    expect(a.metrics.total('misses_total')).toBe(1);
    expect(a.metrics.total('stores_total')).toBe(1);
    expect(a.metrics.total('hits_total')).toBeGreaterThanOrEqual(1);
    expect(a.metrics.total('served_bytes_total')).toBeGreaterThan(0);
    // Another parameter, user or setting is another entry.
    expect(
      isCapture(await a.before(makeStatement('SELECT * FROM users WHERE id = $1', { params: ['2'] }))),
    ).toBe(true);
    expect(
      isCapture(
        await a.before(makeStatement('SELECT * FROM users WHERE id = $1', { params: ['1'], user: 'bob' })),
      ),
    ).toBe(true);
  });

  it('stores entries in a compact binary layout under the database hash tag', async () => {
    const a = await instance({}, 'layout:');
    await cached(a, users(), { users: 1 });
    const keys = (await admin.keys('layout:*')).sort();
    expect(keys).toEqual([
      expect.stringMatching(/^layout:\{app\}:e:[0-9a-f]{64}$/),
      'layout:{app}:gen',
      'layout:{app}:v:users',
    ]);
    const entry = (await admin.getBuffer(keys[0]))!;
    expect(entry.length).toBeLessThan(result({ users: 1 }).dataRows.length + 6 + 60);
    expect(await admin.pttl(keys[0])).toBeGreaterThan(50_000);
  });

  it('leaves statements it does not cache to PostgreSQL without asking Redis', async () => {
    const a = await instance();
    expect(await a.before(makeStatement('SELECT * FROM accounts'))).toBeUndefined();
    expect(await a.before(makeStatement('SELECT * FROM users', { inTransaction: true }))).toBeUndefined();
    expect(await a.before(makeStatement('SELECT now() FROM users'))).toBeUndefined();
    expect(a.metrics.total('misses_total')).toBe(0);
  });

  it('does not store results over max_rows or max_entry_bytes', async () => {
    const a = await instance({ max_rows: 10, max_entry_bytes: 200 });
    const many = await a.before(users());
    if (!isCapture(many)) throw new Error('expected a miss');
    many.capture({ ...result({ users: 1 }), rowCount: 11 });
    const big = await a.before(orders());
    if (!isCapture(big)) throw new Error('expected a miss');
    big.capture({ ...result({ orders: 1 }), dataRows: Buffer.alloc(500) });
    await waitFor(() => a.metrics.total('skipped_total') === 2, { timeoutMs: 2000 });
    expect(a.metrics.total('skipped_total', { reason: 'too_many_rows' })).toBe(1);
    expect(a.metrics.total('skipped_total', { reason: 'too_big' })).toBe(1);
    expect(isCapture(await a.before(users()))).toBe(true);
    expect(a.metrics.total('stores_total')).toBe(0);
  });

  it('a commit on the other instance invalidates the tables it wrote, and only those', async () => {
    const [a, b] = await pair();
    await cached(a, users(), { users: 1 });
    await cached(a, orders(), { orders: 1 });
    await b.commit({ database: 'app', tables: ['public.users'] });
    expect(isCapture(await a.before(users()))).toBe(true);
    expect(isAnswer(await a.before(orders()))).toBe(true);
    // Another database's tables of the same name are other counters.
    await b.commit({ database: 'other', tables: ['orders'] });
    expect(isAnswer(await a.before(orders()))).toBe(true);
    expect(b.metrics.total('invalidations_total')).toBe(2);
  });

  it('does not keep a result when a write committed while its query ran', async () => {
    const [a, b] = await pair();
    const decision = await a.before(users());
    if (!isCapture(decision)) throw new Error('expected a miss');
    await b.commit({ database: 'app', tables: ['users'] });
    decision.capture(result({ users: 1 }));
    await waitFor(() => a.metrics.total('skipped_total', { reason: 'changed' }) === 1, { timeoutMs: 2000 });
    expect(isCapture(await a.before(users()))).toBe(true);
  });

  it('a write to anything (*) invalidates every entry of that database', async () => {
    const [a, b] = await pair();
    await cached(a, users(), { users: 1 });
    await cached(a, orders(), { orders: 1 });
    const elsewhere = makeStatement('SELECT * FROM users', { database: 'other' });
    await cached(a, elsewhere, { users: 7 });
    await b.commit({ database: 'app', tables: ['*'] });
    expect(isCapture(await a.before(users()))).toBe(true);
    expect(isCapture(await a.before(orders()))).toBe(true);
    expect(isAnswer(await a.before(elsewhere))).toBe(true);
  });

  it('expires entries after their TTL', async () => {
    const a = await instance();
    const hinted = makeStatement('/* polyproxy: cache ttl=300ms */ SELECT * FROM accounts');
    await cached(a, hinted, { accounts: 1 });
    await sleep(400);
    expect(isCapture(await a.before(hinted))).toBe(true);
  });

  it('goes on without the cache while Redis is slow, and catches up afterwards', async () => {
    const [a, b] = await pair();
    await cached(a, users(), { users: 1 });
    await admin.client('PAUSE', 1500, 'ALL');
    const lookup = await timed(a.before(users()));
    expect(lookup.value).toBeUndefined();
    expect(lookup.ms).toBeLessThan(1000);
    const commit = await timed(b.commit({ database: 'app', tables: ['users'] }));
    expect(commit.ms).toBeLessThan(1000);
    expect(a.metrics.total('redis_failures_total', { operation: 'lookup', kind: 'timeout' })).toBe(1);
    expect(b.metrics.total('redis_failures_total', { operation: 'invalidate', kind: 'timeout' })).toBe(1);
    expect(b.logLines.some((line) => line.includes('redis unavailable'))).toBe(true);
    // Once Redis answers again, the write's table is never served from its old entry.
    const decision = await waitFor(async () => b.before(users()), { timeoutMs: 5000, intervalMs: 50 });
    expect(isCapture(decision)).toBe(true);
    expect(isCapture(await a.before(users()))).toBe(true);
    await cached(a, users(), { users: 2 });
  });

  it('fails open at once while Redis is down, and caches again once it is back', async () => {
    const [a, b] = await pair();
    await cached(a, users(), { users: 1 });
    await redis.kill();
    try {
      const lookup = await timed(a.before(users()));
      expect(lookup.value).toBeUndefined();
      expect(lookup.ms).toBeLessThan(1000);
      const commit = await timed(b.commit({ database: 'app', tables: ['users'] }));
      expect(commit.ms).toBeLessThan(1000);
      expect(b.metrics.total('redis_failures_total', { operation: 'invalidate' })).toBe(1);
    } finally {
      await redis.restart();
    }
    const decision = await waitFor(async () => a.before(users()), { timeoutMs: 10_000, intervalMs: 50 });
    expect(isCapture(decision)).toBe(true);
    await cached(a, users(), { users: 2 });
    expect(valuesOf(await answered(b, users()))).toEqual({ users: 2 });
  });

  it('an invalidation Redis refused keeps the database out of the cache until its generation moved on', async () => {
    const [a, b] = await pair();
    await cached(a, users(), { users: 1 });
    await cached(a, orders(), { orders: 1 });
    // Over maxmemory with noeviction, Redis refuses every write but still answers reads.
    await admin.config('SET', 'maxmemory', '1');
    try {
      await b.commit({ database: 'app', tables: ['users'] });
      expect(b.metrics.total('redis_failures_total', { operation: 'invalidate', kind: 'error' })).toBe(1);
      expect(await b.before(users())).toBeUndefined();
      expect(await b.before(orders())).toBeUndefined();
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    expect(isCapture(await b.before(orders()))).toBe(true);
    expect(isCapture(await a.before(users()))).toBe(true);
  });

  it('an invalidation that could not reach Redis invalidates the whole database once it can', async () => {
    const relay = await startRelay(redis.port);
    try {
      const prefix = `t${++prefixCount}:`;
      const a = await instance({ redis: `redis://127.0.0.1:${relay.port}` }, prefix);
      const b = await instance({}, prefix);
      await cached(b, users(), { users: 1 });
      await cached(b, orders(), { orders: 1 });
      expect(isAnswer(await a.before(users()))).toBe(true);
      // A is cut off from Redis: its commit's bump is lost, while the entries stay in Redis.
      relay.cut();
      const commit = await timed(a.commit({ database: 'app', tables: ['users'] }));
      expect(commit.ms).toBeLessThan(1000);
      expect(a.metrics.total('redis_failures_total', { operation: 'invalidate' })).toBe(1);
      expect(await a.before(users())).toBeUndefined();
      relay.heal();
      // Back in touch, A bumps the generation before serving anything: no instance serves the old entries.
      const decision = await waitFor(async () => a.before(users()), { timeoutMs: 10_000, intervalMs: 50 });
      expect(isCapture(decision)).toBe(true);
      expect(isCapture(await a.before(orders()))).toBe(true);
      expect(isCapture(await b.before(users()))).toBe(true);
    } finally {
      await relay.close();
    }
  });

  it('starts while Redis is down, without waiting past connect_timeout, and caches once Redis is up', async () => {
    await redis.kill();
    let a: PluginHarness;
    try {
      const started = await timed(instance({ connect_timeout: '300ms' }));
      a = started.value;
      expect(started.ms).toBeLessThan(2000);
      expect(a.logLines.some((line) => line.includes('redis not reachable at start'))).toBe(true);
      expect(await a.before(users())).toBeUndefined();
    } finally {
      await redis.restart();
    }
    const decision = await waitFor(async () => a.before(users()), { timeoutMs: 10_000, intervalMs: 50 });
    expect(isCapture(decision)).toBe(true);
  });

  it('never serves a stale result under random interleavings of reads and commits on two instances', async () => {
    const seed = Number(process.env.CACHE_RACE_SEED ?? Date.now() % 1_000_000);
    const random = mulberry32(seed);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
    const [a, b] = await pair({ timeout: '1s', tables: ['t0', 't1', 't2'] });
    const tables = ['t0', 't1', 't2'];
    /** What PostgreSQL holds: a counter per table, advanced by each committed write. */
    const committed: Record<string, number> = { t0: 0, t1: 0, t2: 0 };
    /** The newest write per table whose commit the writer has seen acknowledged. */
    const acknowledged: Record<string, number> = { t0: 0, t1: 0, t2: 0 };
    const queries = [['t0'], ['t1'], ['t2'], ['t0', 't1'], ['t1', 't2'], ['t0', 't1', 't2']];
    const problems: string[] = [];
    let hits = 0;

    const read = async () => {
      const reading = pick(queries);
      const sql = `SELECT * FROM ${reading.join(', ')}`;
      const mustSee = { ...acknowledged };
      const decision = await pick([a, b]).before(makeStatement(sql));
      if (isAnswer(decision)) {
        hits++;
        const seen = valuesOf(decision.answer);
        for (const t of reading) {
          if (seen[t] < mustSee[t])
            problems.push(`${sql} served ${t}=${seen[t]} after ${t}=${mustSee[t]} was committed`);
        }
      } else if (isCapture(decision)) {
        // The query runs a little later than the lookup, and its result arrives later still.
        await sleep(random() * 4);
        const snapshot = Object.fromEntries(reading.map((t) => [t, committed[t]]));
        await sleep(random() * 4);
        decision.capture(result(snapshot));
      }
    };
    const write = async () => {
      const all = random() < 0.1;
      const written = all ? tables : [pick(tables)];
      const values = written.map((t) => ++committed[t]);
      // The commit hook runs after PostgreSQL committed, before the client hears of it.
      await sleep(random() * 3);
      await pick([a, b]).commit({ database: 'app', tables: all ? ['*'] : written });
      written.forEach((t, i) => (acknowledged[t] = Math.max(acknowledged[t], values[i])));
    };
    const worker = async () => {
      for (let i = 0; i < 150; i++) await (random() < 0.75 ? read() : write());
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    expect(problems, `seed ${seed}`).toEqual([]);
    expect(hits, `seed ${seed}: the race should include hits`).toBeGreaterThan(0);
    expect(a.metrics.total('stores_total') + b.metrics.total('stores_total')).toBeGreaterThan(0);
  });

  it('stops cleanly, waiting for results still being stored', async () => {
    const a = await instance();
    const decision = await a.before(users());
    if (!isCapture(decision)) throw new Error('expected a miss');
    decision.capture(result({ users: 1 }));
    await a.stop();
    running.splice(running.indexOf(a), 1);
    expect(a.metrics.total('stores_total')).toBe(1);
  });
});

describe('cache plugin on Sentinel and Cluster', () => {
  it('finds the master through Sentinel', async () => {
    const sentinel = await startRedisSentinel();
    try {
      const redisConfig = { sentinels: [sentinel.sentinel], name: sentinel.name };
      const [a, b] = await pair({ redis: redisConfig });
      await cached(a, users(), { users: 1 });
      expect(valuesOf(await answered(b, users()))).toEqual({ users: 1 });
      await b.commit({ database: 'app', tables: ['users'] });
      expect(isCapture(await a.before(users()))).toBe(true);
      await Promise.all(running.splice(0).map((plugin) => plugin.stop()));
    } finally {
      await sentinel.stop();
    }
  });

  it('keeps each database in one hash slot of a Redis Cluster, so its scripts run there', async () => {
    const cluster = await startRedisCluster(3);
    try {
      const [a, b] = await pair({ redis: { cluster: cluster.nodes }, timeout: '1s' });
      const join = makeStatement('SELECT * FROM users JOIN orders ON true');
      const databases = ['app', 'shop', 'crm', 'billing'];
      for (const database of databases) {
        await cached(a, makeStatement('SELECT * FROM users JOIN orders ON true', { database }), { users: 1 });
      }
      expect(valuesOf(await answered(b, join))).toEqual({ users: 1 });
      await b.commit({ database: 'app', tables: ['orders', 'users'] });
      expect(isCapture(await a.before(join))).toBe(true);
      await b.commit({ database: 'shop', tables: ['*'] });
      expect(isCapture(await a.before(makeStatement(join.sql, { database: 'shop' })))).toBe(true);
      expect(isAnswer(await a.before(makeStatement(join.sql, { database: 'crm' })))).toBe(true);
      expect(a.metrics.total('redis_failures_total') + b.metrics.total('redis_failures_total')).toBe(0);
      await Promise.all(running.splice(0).map((plugin) => plugin.stop()));
    } finally {
      await cluster.stop();
    }
  });
});

/** A TCP relay to Redis that can be cut, as a network partition between one proxy and Redis would. */
async function startRelay(targetPort: number) {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const cut = () => {
    open = false;
    for (const socket of sockets) socket.destroy();
  };
  return {
    port,
    cut,
    heal: () => {
      open = true;
    },
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A small seeded PRNG, so a failing interleaving can be replayed with CACHE_RACE_SEED. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
