// The publish plugin's crash check, the same for every broker: write while the broker and then the publishing proxy
// die, start another proxy, and check that every committed row arrived, none rolled back, per key in commit order.
import { expect } from 'vitest';
import { caughtUp, firstArrivals, slotActive, type Message } from './publish-helpers.js';
import type { Plugins, StreamRig } from './stream-rig.js';

export interface CrashRun {
  rig: StreamRig;
  /** A table `(id int PRIMARY KEY, v int NOT NULL)` that `publish` publishes. */
  table: string;
  slot: string;
  /** The broker, killed (SIGKILL) and restarted mid-stream. */
  broker: { kill(): Promise<void>; restart(): Promise<void> };
  /** The plugins of the publishing proxy (the built CLI, killed mid-stream), given to its successor too. */
  plugins: Plugins;
  /** Every message now waiting for a consumer, taken off the broker. */
  takeAll(): Promise<Message[]>;
  /** Names the run in the printed line. */
  label: string;
}

const keys = 20;

/** Upserts one row per transaction into 20 keys; every seventh is rolled back (its value negative). */
function writer(rig: StreamRig, table: string) {
  const committed: { id: number; v: number }[] = [];
  let seq = 0;
  const load = async (count: number) => {
    for (let n = 0; n < count; n++) {
      seq++;
      const id = seq % keys;
      const rollback = seq % 7 === 0;
      const v = rollback ? -seq : seq;
      await rig.direct.query('BEGIN');
      await rig.direct.query(
        `INSERT INTO ${table} VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v`,
        [id, v],
      );
      await rig.direct.query(rollback ? 'ROLLBACK' : 'COMMIT');
      if (!rollback) committed.push({ id, v });
    }
  };
  return { committed, load };
}

/** Starts the publishing proxy, runs the crashes and asserts at-least-once delivery of committed rows only, in commit order per key. */
export async function checkDeliveryThroughCrashes(run: CrashRun): Promise<void> {
  const publishing = await run.rig.spawnProxy(run.plugins);
  await slotActive(run.rig.direct, run.slot);
  const { committed, load } = writer(run.rig, run.table);
  await load(200);
  // Killed right after the burst, while the stream still publishes it.
  await run.broker.kill();
  await load(100);
  await run.broker.restart();
  await load(100);
  await publishing.kill();
  await load(100);
  await run.rig.startProxy(run.plugins);
  await caughtUp(run.rig.direct, run.slot, 120_000);

  const messages = await run.takeAll();
  const arrived = new Set(messages.map((m) => `${m.key!.id} ${m.new!.v}`));
  const missing = committed.filter(({ id, v }) => !arrived.has(`${id} ${v}`));
  expect(missing).toEqual([]);
  expect(messages.filter((m) => Number(m.new!.v) < 0)).toEqual([]);
  const order = firstArrivals(messages, (m) => m.new!.v!);
  for (const [key, values] of order) {
    const expected = committed
      .filter(({ id }) => JSON.stringify({ id: String(id) }) === key)
      .map(({ v }) => String(v));
    expect(values, `key ${key}`).toEqual(expected);
  }
  console.log(
    `${run.label}: ${committed.length} committed rows, ${messages.length} messages (duplicates ${messages.length - committed.length})`,
  );
}
