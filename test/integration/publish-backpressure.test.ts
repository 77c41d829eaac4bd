// The publish plugin while RabbitMQ is down: the stream stops reading once max_in_flight changes wait (SHOW STREAMS
// queued_peak stays at most near it although far more is committed), the slot keeps the WAL, and once the broker is back
// every committed row is delivered. Own primary and broker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/sandbox/wait.js';
import type { TestProxy } from './helpers/proxy.js';
import { caughtUp, declareQueue, slotActive, takeAll } from './publish-helpers.js';
import { showStreams, startStreamRig, type StreamRig } from './stream-rig.js';

const slot = 'polyproxy_publish_backpressure';
const window = 2000;
/** Changes of bp_items one network read (64 KiB) may hold beyond the window: at least 54 bytes of stream each (CopyData, XLogData and Insert headers). */
const oneRead = 1400;
const backlog = 20_000;
let rig: StreamRig;
let proxy: TestProxy;

/** The publish stream's row of SHOW STREAMS. */
async function streamRow(): Promise<Record<string, string | null>> {
  const row = (await showStreams(proxy)).find((r) => r.consumer === 'publish' && r.slot === slot);
  if (!row) throw new Error('no publish stream in SHOW STREAMS');
  return row;
}

beforeAll(async () => {
  rig = await startStreamRig({
    rabbitmq: true,
    schema: 'CREATE TABLE bp_items (id int PRIMARY KEY, v text NOT NULL)',
  });
  await declareQueue(rig.rabbit.url, 'bp', 'bp', 'items.*');
  const publish = {
    rabbitmq: { url: rig.rabbit.url },
    slot,
    publication: slot,
    max_in_flight: window,
    timeout: '2s',
    connect_timeout: '1s',
    tables: { bp_items: { rabbitmq: { exchange: 'bp', routing_key: 'items.{op}' } } },
  };
  proxy = await rig.startProxy({ publish });
  await slotActive(rig.direct, slot);
}, 180_000);

afterAll(() => rig?.stop(), 60_000);

describe('publishing while the broker is down', () => {
  it('holds at most about max_in_flight changes in memory, keeps the WAL in the slot, then delivers everything', async () => {
    await rig.rabbit.kill();
    for (let t = 0; t < backlog / 100; t++) {
      const inserts = Array.from(
        { length: 100 },
        (_, i) => `INSERT INTO bp_items VALUES (${t * 100 + i}, 'v')`,
      );
      await rig.direct.query(`BEGIN; ${inserts.join('; ')}; COMMIT`);
    }
    // The stream has read changes while the broker was down. Whether it fills its window before a publish
    // fails depends on how fast the dead broker refuses (a failed session replays from the confirmed
    // position), so the test asserts the bound, not that the window filled.
    await waitFor(async () => Number((await streamRow()).queued_peak) > 0, {
      timeoutMs: 60_000,
      what: 'the stream to read changes',
    });
    const { rows } = await rig.direct.query<{ behind: boolean }>(
      'SELECT confirmed_flush_lsn < pg_current_wal_lsn() AS behind FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    expect(rows[0]!.behind).toBe(true);

    await rig.rabbit.restart();
    await caughtUp(rig.direct, slot, 240_000);
    const messages = await takeAll(rig.rabbit.url, 'bp');
    expect(new Set(messages.map((m) => m.key!.id)).size).toBe(backlog);
    // Reading pauses at the window; what one network read (64 KiB) already brought is still taken.
    const peak = Number((await streamRow()).queued_peak);
    expect(peak).toBeLessThanOrEqual(window + oneRead);
    console.log(
      `back-pressure: ${backlog} committed while RabbitMQ was down, at most ${peak} queued in memory`,
    );
  }, 400_000);
});
