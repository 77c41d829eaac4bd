// The change stream's consumer killed with SIGKILL (the built proxy in a process of its own): another
// instance takes the stream over and invalidates its cached read after a later write straight to PostgreSQL.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/sandbox/wait.js';
import type { TestProxy } from './helpers/proxy.js';
import { metricSum, startStreamRig, type SpawnedProxy, type StreamRig } from './stream-rig.js';

const slot = 'polyproxy_cache_crash';

let rig: StreamRig;
let killed: SpawnedProxy;
let survivor: TestProxy;
let reader: pg.Client;

const consuming = (adminPort: number) => metricSum(adminPort, 'polyproxy_plugin_cache_stream_consuming');

const readItem = async (client: pg.Client) =>
  (await client.query<{ v: number }>('SELECT v FROM crash_items WHERE id = 1')).rows[0]?.v;

beforeAll(async () => {
  rig = await startStreamRig({
    redis: true,
    schema:
      'CREATE TABLE crash_items (id int PRIMARY KEY, v int NOT NULL); INSERT INTO crash_items VALUES (1, 0)',
  });
  const cache = {
    redis: rig.redis.url,
    tables: ['crash_items'],
    default_ttl: '60s',
    timeout: '500ms',
    change_stream: { enabled: true, slot, publication: slot },
  };
  killed = await rig.spawnProxy({ cache });
  await waitFor(async () => (await consuming(killed.adminPort)) === 1, {
    timeoutMs: 20_000,
    what: 'the process to consume the stream',
  });
  survivor = await rig.startProxy({ cache });
  reader = new pg.Client(survivor.client());
  await reader.connect();
}, 120_000);

afterAll(async () => {
  await reader?.end().catch(() => {});
  await rig?.stop();
}, 60_000);

describe('change stream consumer killed', () => {
  it('another instance takes the stream over and invalidates a later direct write', async () => {
    expect(await consuming(survivor.adminPort)).toBe(0);
    await readItem(reader);
    const hitsBefore = await metricSum(survivor.adminPort, 'polyproxy_plugin_cache_hits_total');
    expect(await readItem(reader)).toBe(0);
    expect(await metricSum(survivor.adminPort, 'polyproxy_plugin_cache_hits_total')).toBe(hitsBefore + 1);

    const killedAt = performance.now();
    await killed.kill();
    await waitFor(async () => (await consuming(survivor.adminPort)) === 1, {
      timeoutMs: 20_000,
      what: 'the surviving instance to take the stream over',
    });
    console.log(`takeover after SIGKILL of the consumer: ${(performance.now() - killedAt).toFixed(0)} ms`);
    await rig.direct.query('UPDATE crash_items SET v = 7 WHERE id = 1');
    await waitFor(async () => (await readItem(reader)) === 7, {
      timeoutMs: 15_000,
      intervalMs: 20,
      what: 'the surviving instance to see the direct write',
    });
  }, 60_000);
});
