// The Redis cache end to end: two proxies share one Redis in front of real PostgreSQL; hits, invalidation across instances, TTL, equality with PostgreSQL, Redis killed mid-run, and a randomized stale-read hunt.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../../src/sandbox/redis.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';

let redis: RedisServer;
let a: TestProxy;
let b: TestProxy;
let ca: pg.Client;
let cb: pg.Client;
let direct: pg.Client;

const cacheYaml = (url: string) =>
  `  cache: { redis: ${JSON.stringify(url)}, tables: [cache_items, cache_counters], default_ttl: 60s, timeout: 200ms }`;

async function client(proxy: TestProxy): Promise<pg.Client> {
  const c = new pg.Client(proxy.client());
  await c.connect();
  return c;
}

/** A counter from the proxy's /metrics, summed over its labels. */
async function metric(proxy: TestProxy, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proxy.adminPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').at(-1));
  return sum;
}

beforeAll(async () => {
  redis = await startRedis();
  direct = new pg.Client(directConfig());
  await direct.connect();
  await direct.query(`
    DROP TABLE IF EXISTS cache_items, cache_counters, cache_other;
    CREATE TABLE cache_items (id int PRIMARY KEY, label text, price numeric(10,2), seen timestamptz, note text);
    INSERT INTO cache_items SELECT g, 'item ' || g, g * 1.25, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 hour',
      CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, 200) g;
    CREATE TABLE cache_counters (id int PRIMARY KEY, n int NOT NULL);
    INSERT INTO cache_counters SELECT g, 0 FROM generate_series(1, 5) g;
    CREATE TABLE cache_other (id int, v text);
    INSERT INTO cache_other VALUES (1, 'before');
  `);
  [a, b] = await Promise.all([
    startTestProxy({ pluginsYaml: cacheYaml(redis.url) }),
    startTestProxy({ pluginsYaml: cacheYaml(redis.url) }),
  ]);
  [ca, cb] = await Promise.all([client(a), client(b)]);
});

afterAll(async () => {
  await Promise.all([ca?.end(), cb?.end(), direct?.end()]);
  await Promise.all([a?.close(), b?.close()]);
  await redis?.stop();
});

describe('redis cache through polyproxy', () => {
  it('serves a repeated read from the cache, equal to what PostgreSQL returns', async () => {
    const queries: [string, unknown[]][] = [
      ['SELECT * FROM cache_items ORDER BY id', []],
      ['SELECT count(*), sum(price), avg(price), max(seen) FROM cache_items', []],
      ['SELECT label, price, note FROM cache_items WHERE id = $1', [3]],
      ['SELECT id, note FROM cache_items WHERE note IS NULL ORDER BY id LIMIT 5', []],
    ];
    const hitsBefore = await metric(a, 'polyproxy_plugin_cache_hits_total');
    for (const [sql, params] of queries) {
      const expected = await direct.query(sql, params);
      const miss = await ca.query(sql, params);
      const hit = await ca.query(sql, params);
      for (const res of [miss, hit]) {
        expect(res.rows).toEqual(expected.rows);
        expect(res.fields.map((f) => [f.name, f.dataTypeID])).toEqual(
          expected.fields.map((f) => [f.name, f.dataTypeID]),
        );
        expect(res.command).toBe(expected.command);
      }
    }
    expect((await metric(a, 'polyproxy_plugin_cache_hits_total')) - hitsBefore).toBeGreaterThanOrEqual(
      queries.length,
    );
  });

  it('invalidates across instances: a write through one proxy is seen at once through the other', async () => {
    const read = 'SELECT label FROM cache_items WHERE id = 1';
    expect((await ca.query(read)).rows).toEqual([{ label: 'item 1' }]);
    // A write that bypasses polyproxy is not seen until the TTL: the next read is a cache hit.
    await direct.query("UPDATE cache_items SET label = 'behind the back' WHERE id = 1");
    expect((await ca.query(read)).rows).toEqual([{ label: 'item 1' }]);
    await cb.query("UPDATE cache_items SET label = 'through b' WHERE id = 1");
    expect((await ca.query(read)).rows).toEqual([{ label: 'through b' }]);
  });

  it('caches a table that is not listed when the statement asks, for the TTL it gives', async () => {
    const read = '/* polyproxy: cache ttl=1 */ SELECT v FROM cache_other WHERE id = 1';
    expect((await ca.query(read)).rows).toEqual([{ v: 'before' }]);
    await direct.query("UPDATE cache_other SET v = 'after' WHERE id = 1");
    expect((await ca.query(read)).rows).toEqual([{ v: 'before' }]);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await ca.query(read)).rows).toEqual([{ v: 'after' }]);
    // Without the hint, an unlisted table is never cached.
    await direct.query("UPDATE cache_other SET v = 'fresh' WHERE id = 1");
    expect((await ca.query('SELECT v FROM cache_other WHERE id = 1')).rows).toEqual([{ v: 'fresh' }]);
  });

  it('keeps answering from PostgreSQL while Redis is down, and caches again once it is back', async () => {
    const read = 'SELECT n FROM cache_counters WHERE id = 5';
    await redis.kill();
    for (let i = 1; i <= 3; i++) {
      await cb.query('UPDATE cache_counters SET n = n + 1 WHERE id = 5');
      expect((await ca.query(read)).rows).toEqual([{ n: i }]);
    }
    await redis.restart();
    // Caching resumes: a read fills the cache, a write behind the proxy's back is then not seen.
    // The Redis client reconnects with a backoff: on a loaded machine that can take seconds, so wait up to 20 s.
    let cached = false;
    for (const until = Date.now() + 20_000; Date.now() < until && !cached;) {
      await ca.query(read);
      await direct.query('UPDATE cache_counters SET n = 100 WHERE id = 5');
      cached = (await ca.query(read)).rows[0].n === 3;
      await direct.query('UPDATE cache_counters SET n = 3 WHERE id = 5');
      if (!cached) await new Promise((r) => setTimeout(r, 100));
    }
    expect(cached).toBe(true);
    await cb.query('UPDATE cache_counters SET n = 3 WHERE id = 5');
  });

  it('never returns a stale read after a committed write, in a randomized run over two instances', async () => {
    const clients = [ca, cb, await client(a), await client(b)];
    const truth = new Map<number, number>();
    for (const { id, n } of (await direct.query('SELECT id, n FROM cache_counters WHERE id <= 4')).rows)
      truth.set(id as number, n as number);
    let seed = 20261125;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let stale = 0;
    let reads = 0;
    const hitsBefore =
      (await metric(a, 'polyproxy_plugin_cache_hits_total')) +
      (await metric(b, 'polyproxy_plugin_cache_hits_total'));
    for (let i = 0; i < 400; i++) {
      const c = clients[random(clients.length)];
      const id = 1 + random(4);
      const op = random(10);
      if (op < 1) {
        const res = await c.query('UPDATE cache_counters SET n = n + 1 WHERE id = $1 RETURNING n', [id]);
        truth.set(id, res.rows[0].n as number);
      } else if (op < 2) {
        await c.query('BEGIN');
        const res = await c.query('UPDATE cache_counters SET n = n + 10 WHERE id = $1 RETURNING n', [id]);
        await c.query('COMMIT');
        truth.set(id, res.rows[0].n as number);
      } else {
        reads++;
        const res =
          op < 7
            ? await c.query('SELECT n FROM cache_counters WHERE id = $1', [id])
            : await c.query(`SELECT n FROM cache_counters WHERE id = ${id}`);
        if (res.rows[0].n !== truth.get(id)) stale++;
      }
    }
    await Promise.all(clients.slice(2).map((c) => c.end()));
    const hits =
      (await metric(a, 'polyproxy_plugin_cache_hits_total')) +
      (await metric(b, 'polyproxy_plugin_cache_hits_total')) -
      hitsBefore;
    expect(reads).toBeGreaterThan(200);
    expect(hits).toBeGreaterThan(30);
    expect(stale).toBe(0);
  });
});
