// The cutover's verification in two parts against real servers: the live one (both sides compared before the
// pause) refuses a row that differs on a new shard, and the held tail (the rows the stream touched since)
// refuses a row changed on a new shard behind the stream's back after the live verification passed; in both
// cases the database keeps its old shards. A clean tail lets the cutover switch.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/backend/database.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logger.js';
import { cutOver, type CutoverStream } from '../../src/reshard/cutover.js';
import { targetConfig } from '../../src/reshard/job.js';
import { Reshard } from '../../src/reshard/reshard.js';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import { client, createDatabases, fill, plan, reshardConfigYaml, schemaSql } from './reshard-helpers.js';

const old = ['vf_old_0', 'vf_old_1', 'vf_old_2'];
const fresh = ['vf_new_0', 'vf_new_1'];
const opened: pg.Client[] = [];
let db: Database;
let reshard: Reshard;

const oldShardOf = (id: number) => opened[hashShard('int', BigInt(id), old.length)]!;
const newShardOf = (id: number) => opened[old.length + hashShard('int', BigInt(id), fresh.length)]!;

/**
 * The reshard's stream, with `between` run once right after the live verification (the first catch-up made
 * over the connections kept for the pause), before statements are held.
 */
function streamWith(between: () => Promise<void>): CutoverStream {
  let done = false;
  return {
    plan: reshard.plan,
    verification: () => reshard.verification(),
    async catchUp(timeoutMs, run) {
      await reshard.catchUp(timeoutMs, run);
      if (!run || done) return;
      done = true;
      await between();
    },
  };
}

const options = { pauseTimeoutMs: 10_000, log: silentLogger };

beforeAll(async () => {
  await createDatabases([...old, ...fresh]);
  opened.push(...(await Promise.all([...old, ...fresh].map(client))));
  const oldClients = opened.slice(0, old.length);
  for (const c of oldClients) await c.query(schemaSql);
  await fill(oldClients);
  const config = parseConfig(reshardConfigYaml({ listen: 1, old, fresh, name: 'vf' }));
  db = new Database('vf', config.databases.vf!, silentLogger);
  await db.start();
  reshard = new Reshard(plan('vf', old, fresh), silentLogger);
  await reshard.start();
}, 120_000);

afterAll(async () => {
  await reshard?.cancel().catch(() => {});
  await db?.close();
  await Promise.all(opened.map((c) => c.end().catch(() => {})));
});

describe('reshard verification before the pause and of the held tail', () => {
  it('refuses before the pause a row that differs on a new shard though the stream never touched it', async () => {
    await newShardOf(7).query("UPDATE items SET note = 'not on the old shard' WHERE id = 7");
    const next = targetConfig(db.config, 'two');
    await expect(
      cutOver(
        db,
        streamWith(async () => {}),
        next,
        options,
      ),
    ).rejects.toThrow(/verification failed \(before the pause\): public\.items: key range \d+ differs/);
    expect(db.config.shards).toHaveLength(old.length);
    await newShardOf(7).query("UPDATE items SET note = 'initial' WHERE id = 7");
  }, 60_000);

  it('refuses in the pause a row changed on a new shard behind the stream after the live verification', async () => {
    const next = targetConfig(db.config, 'two');
    const tamper = async () => {
      // The stream applies this update (its key joins the tail), then the new shard's row is changed behind it.
      await oldShardOf(5).query('UPDATE items SET v = 4242 WHERE id = 5');
      await reshard.catchUp(30_000);
      await newShardOf(5).query("UPDATE items SET note = 'behind the stream' WHERE id = 5");
    };
    await expect(cutOver(db, streamWith(tamper), next, options)).rejects.toThrow(
      /verification failed \(the tail\): public\.items: row \(5\) differs after the live verification/,
    );
    expect(db.config.shards).toHaveLength(old.length);
    // The old shard still has the acknowledged write; the new one kept what was done behind the stream.
    const { rows } = await oldShardOf(5).query('SELECT v, note FROM items WHERE id = 5');
    expect(rows).toEqual([{ v: 4242, note: 'initial' }]);
  }, 60_000);

  it('switches once the tail is clean: the rows the stream touched since the live verification re-compared', async () => {
    await newShardOf(5).query("UPDATE items SET note = 'initial' WHERE id = 5");
    const next = targetConfig(db.config, 'two');
    const write = async () => {
      for (const id of [11, 12, 13])
        await oldShardOf(id).query('UPDATE items SET v = -1 WHERE id = $1', [id]);
    };
    const result = await cutOver(db, streamWith(write), next, options);
    expect(result.checks.every((c) => c.equal)).toBe(true);
    expect(result.live.unsettled).toEqual([]);
    expect(result.tail.keys).toBeGreaterThanOrEqual(3);
    expect(result.tail.whole).toEqual([]);
    expect(db.config.shards).toHaveLength(fresh.length);
    const { rows } = await newShardOf(12).query('SELECT v FROM items WHERE id = 12');
    expect(rows).toEqual([{ v: -1 }]);
  }, 60_000);
});
