// Cache invalidation from the primary's change stream: writes straight to PostgreSQL (bypassing every proxy)
// invalidate cached reads on two instances; rollbacks do not; one instance consumes, another takes over, and
// a new consumer replays from the slot what committed while none ran. Own primary (wal_level=logical) and Redis.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/sandbox/wait.js';
import type { TestProxy } from './helpers/proxy.js';
import { slotIsActive } from './publish-helpers.js';
import { metricSum, startStreamRig, type StreamRig } from './stream-rig.js';

const slot = 'polyproxy_cache_test';
let rig: StreamRig;
const clients: pg.Client[] = [];

async function startInstance(stream: boolean): Promise<{ proxy: TestProxy; client: pg.Client }> {
  const cache = {
    redis: rig.redis.url,
    tables: ['stream_items', 'stream_marks', 'stream_trunc'],
    default_ttl: '60s',
    timeout: '500ms',
    ...(stream && { change_stream: { enabled: true, slot, publication: slot } }),
  };
  const proxy = await rig.startProxy({ cache });
  const client = new pg.Client(proxy.client());
  await client.connect();
  clients.push(client);
  return { proxy, client };
}

const metric = (proxy: TestProxy, name: string) => metricSum(proxy.adminPort, name);
const consuming = (proxy: TestProxy) => metric(proxy, 'polyproxy_plugin_cache_stream_consuming');
const hits = (proxy: TestProxy) => metric(proxy, 'polyproxy_plugin_cache_hits_total');

const readItem = async (client: pg.Client, id: number) =>
  (await client.query<{ v: number }>('SELECT v FROM stream_items WHERE id = $1', [id])).rows[0]?.v;

/** Reads the row twice through the proxy: the second read must be a hit, so the entry is in the cache. */
async function cache(proxy: TestProxy, client: pg.Client, id: number): Promise<number | undefined> {
  await readItem(client, id);
  const before = await hits(proxy);
  const value = await readItem(client, id);
  expect(await hits(proxy)).toBe(before + 1);
  return value;
}

/** Waits (bounded) until a read through the proxy returns the value PostgreSQL has. */
async function seesValue(client: pg.Client, id: number, value: number, what: string): Promise<void> {
  await waitFor(async () => (await readItem(client, id)) === value, {
    timeoutMs: 15_000,
    intervalMs: 20,
    what,
  });
}

const slotActive = () => slotIsActive(rig.direct, slot);

let a: { proxy: TestProxy; client: pg.Client };
let b: { proxy: TestProxy; client: pg.Client };

beforeAll(async () => {
  rig = await startStreamRig({
    redis: true,
    schema: `
      CREATE TABLE stream_items (id int PRIMARY KEY, v int NOT NULL);
      INSERT INTO stream_items SELECT g, 0 FROM generate_series(1, 100) g;
      CREATE TABLE stream_marks (id int PRIMARY KEY, v int NOT NULL);
      INSERT INTO stream_marks VALUES (1, 0);
      CREATE TABLE stream_trunc (id int);
      INSERT INTO stream_trunc SELECT generate_series(1, 3);
    `,
  });
  [a, b] = await Promise.all([startInstance(true), startInstance(true)]);
  await waitFor(slotActive, { timeoutMs: 20_000, what: 'the change stream slot to be consumed' });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.end().catch(() => {})));
  await rig?.stop();
}, 60_000);

describe('cache invalidation from the change stream', () => {
  it('has exactly one instance consuming the stream', async () => {
    const flags = await Promise.all([consuming(a.proxy), consuming(b.proxy)]);
    expect(flags.sort()).toEqual([0, 1]);
  });

  it('invalidates a cached read on both instances after a write straight to PostgreSQL', async () => {
    expect(await cache(a.proxy, a.client, 1)).toBe(0);
    expect(await cache(b.proxy, b.client, 1)).toBe(0);
    await rig.direct.query('UPDATE stream_items SET v = 1 WHERE id = 1');
    await seesValue(a.client, 1, 1, 'instance a to see the direct update');
    await seesValue(b.client, 1, 1, 'instance b to see the direct update');
  });

  it('does not invalidate for a rolled-back transaction', async () => {
    expect(await cache(a.proxy, a.client, 2)).toBe(0);
    await rig.direct.query('BEGIN');
    await rig.direct.query('UPDATE stream_items SET v = 99 WHERE id = 2');
    await rig.direct.query('ROLLBACK');
    // A later committed write on another table: once its invalidation shows, the stream is past the rollback.
    await readItemMark(a.client);
    await rig.direct.query('UPDATE stream_marks SET v = v + 1 WHERE id = 1');
    const mark = Number((await rig.direct.query('SELECT v FROM stream_marks WHERE id = 1')).rows[0].v);
    await waitFor(async () => (await readItemMark(a.client)) === mark, {
      timeoutMs: 15_000,
      intervalMs: 20,
      what: 'the marker write to be invalidated',
    });
    const before = await hits(a.proxy);
    expect(await readItem(a.client, 2)).toBe(0);
    expect(await hits(a.proxy)).toBe(before + 1);
  });

  it('measures how soon after a direct commit the cached result is gone', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 50; i++) {
      const id = 10 + i;
      await cache(a.proxy, a.client, id);
      await rig.direct.query('UPDATE stream_items SET v = v + 1 WHERE id = $1', [id]);
      const committed = performance.now();
      await waitFor(async () => (await readItem(a.client, id)) === 1, {
        timeoutMs: 15_000,
        intervalMs: 2,
        what: `item ${id} to be invalidated`,
      });
      delays.push(performance.now() - committed);
    }
    delays.sort((x, y) => x - y);
    console.log(
      `direct write -> cache invalidated (ms, 50 writes, 2 ms poll): median ${delays[25].toFixed(1)}, max ${delays[49].toFixed(1)}`,
    );
    expect(delays).toHaveLength(50);
  }, 120_000);

  it('invalidates after a direct TRUNCATE', async () => {
    const count = async () =>
      Number((await a.client.query('SELECT count(*) AS n FROM stream_trunc')).rows[0].n);
    await count();
    const before = await hits(a.proxy);
    expect(await count()).toBe(3);
    expect(await hits(a.proxy)).toBe(before + 1);
    await rig.direct.query('TRUNCATE stream_trunc');
    await waitFor(async () => (await count()) === 0, {
      timeoutMs: 15_000,
      intervalMs: 20,
      what: 'the truncated table to read empty',
    });
  });

  it('keeps up with a burst of direct transactions and ends on the last one', async () => {
    await readItemMark(a.client);
    const started = performance.now();
    for (let i = 0; i < 500; i++) await rig.direct.query('UPDATE stream_marks SET v = v + 1 WHERE id = 1');
    const committed = performance.now();
    const last = Number((await rig.direct.query('SELECT v FROM stream_marks WHERE id = 1')).rows[0].v);
    await waitFor(async () => (await readItemMark(a.client)) === last, {
      timeoutMs: 30_000,
      intervalMs: 5,
      what: 'the burst to be invalidated',
    });
    console.log(
      `burst of 500 direct transactions in ${(committed - started).toFixed(0)} ms; last invalidated ${(performance.now() - committed).toFixed(1)} ms after its commit`,
    );
    expect(last).toBeGreaterThanOrEqual(500);
  }, 60_000);

  it('lets the other instance take over when the consumer stops', async () => {
    const consumer = (await consuming(a.proxy)) === 1 ? a : b;
    const other = consumer === a ? b : a;
    expect(await cache(other.proxy, other.client, 3)).toBe(0);
    await consumer.client.end();
    await consumer.proxy.close();
    const stopped = performance.now();
    await waitFor(async () => (await consuming(other.proxy)) === 1, {
      timeoutMs: 15_000,
      what: 'the other instance to take the stream over',
    });
    console.log(`takeover after the consumer stopped: ${(performance.now() - stopped).toFixed(0)} ms`);
    await rig.direct.query('UPDATE stream_items SET v = 3 WHERE id = 3');
    await seesValue(other.client, 3, 3, 'the surviving instance to see the direct update');
    a = other;
  }, 60_000);

  it('replays from the slot what committed while no instance consumed', async () => {
    const reader = await startInstance(false);
    expect(await cache(reader.proxy, reader.client, 4)).toBe(0);
    await a.client.end();
    await a.proxy.close();
    await waitFor(async () => !(await slotActive()), { timeoutMs: 15_000, what: 'the slot to be released' });
    await rig.direct.query('UPDATE stream_items SET v = 4 WHERE id = 4');
    // Nobody consumes: the reader still serves its cached (now stale) result.
    const before = await hits(reader.proxy);
    expect(await readItem(reader.client, 4)).toBe(0);
    expect(await hits(reader.proxy)).toBe(before + 1);
    await startInstance(true);
    await seesValue(reader.client, 4, 4, 'the write committed while none consumed to be replayed');
  }, 60_000);
});

async function readItemMark(client: pg.Client): Promise<number | undefined> {
  return (await client.query<{ v: number }>('SELECT v FROM stream_marks WHERE id = 1')).rows[0]?.v;
}
