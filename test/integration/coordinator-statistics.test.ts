// The coordinator's local statistics: a table the default shard analyzed again is analyzed again on the
// coordinator after the next coordinator statements (in the background: those statements answer at once,
// from the same rows as one PostgreSQL), and a table whose statistics on the default shard did not change
// is not read again.
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../../src/sandbox/wait.js';
import { connect } from './helpers/tools.js';
import { shardClient, sortedAnswer as answer, startShardedRig, type ShardedRig } from './sharding-helpers.js';

let rig: ShardedRig;
let coordinator: pg.Client;
/** stat_a's rows as the coordinator estimated them right after its first statement answered. */
let firstEstimate: number;

const join = 'SELECT a.a_kind, count(*) FROM stat_a a JOIN stat_b b ON b.b_ref = a.a_id GROUP BY 1';

/** The coordinator's row estimate of one shard's partition of a table (its last ANALYZE there). */
async function estimate(table: string, shard: number): Promise<number> {
  const r = await coordinator.query(`SELECT reltuples::int8 AS n FROM pg_class WHERE oid = $1::regclass`, [
    `polyproxy_coordinator."public.${table}.${shard}"`,
  ]);
  return Number(r.rows[0].n);
}

async function estimates(table: string): Promise<number> {
  let sum = 0;
  for (const s of [0, 1, 2]) sum += await estimate(table, s);
  return sum;
}

async function expectEqual(sql: string): Promise<void> {
  const got = await answer(rig.sharded, sql);
  expect(got, sql).not.toHaveProperty('error');
  expect(got, sql).toEqual(await answer(rig.single, sql));
}

beforeAll(async () => {
  rig = await startShardedRig({
    sharding: { tables: { stat_a: 'a_id', stat_b: 'b_id' }, reference: [] },
    single: 'coordinator_statistics',
  });
  for (const c of [rig.sharded, rig.single]) {
    // No autoanalyze: the shards' statistics change only when the test analyzes.
    const off = 'WITH (autovacuum_enabled = off)';
    await c.query(`CREATE TABLE stat_a (a_id int8 PRIMARY KEY, a_kind int4) ${off}`);
    await c.query(`CREATE TABLE stat_b (b_id int8 PRIMARY KEY, b_ref int8) ${off}`);
    await c.query('INSERT INTO stat_a SELECT g, g % 7 FROM generate_series(1, 300) g');
    await c.query('INSERT INTO stat_b SELECT g, g % 300 + 1 FROM generate_series(1, 600) g');
    await c.query('ANALYZE stat_a');
    await c.query('ANALYZE stat_b');
  }
  // The first coordinator statement builds the mirror and waits for its first statistics.
  await expectEqual(join);
  coordinator = await connect({ ...shardClient(rig.cluster, 0), database: 'app_coordinator' });
  firstEstimate = await estimates('stat_a');
  // An ANALYZE that failed under load is tried again by a later statement: the test starts from both analyzed.
  await waitFor(
    async () => {
      await rig.sharded.query(join);
      for (const s of [0, 1, 2])
        if ((await estimate('stat_a', s)) < 0 || (await estimate('stat_b', s)) < 0) return false;
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 500, what: 'the first statistics of both tables' },
  );
});

afterAll(async () => {
  await coordinator?.end();
  await rig?.stop();
});

it('has statistics of a new mirror before its first statement answers', async () => {
  expect(firstEstimate).toBe(300);
});

it('analyzes again only what the default shard analyzed again, while statements go on', async () => {
  const before = await estimate('stat_b', 1);
  for (const c of [rig.sharded, rig.single]) {
    await c.query('INSERT INTO stat_a SELECT g, g % 7 FROM generate_series(301, 3300) g');
    await c.query('ANALYZE stat_a');
  }
  // stat_b grows and is analyzed on shard 1 alone: the default shard's statistics of it stay as they were.
  const shard1 = await connect(shardClient(rig.cluster, 1));
  try {
    await shard1.query(
      'INSERT INTO stat_b SELECT g, 1 FROM generate_series(100001, 103000) g WHERE g % 3 = 1',
    );
    await shard1.query('ANALYZE stat_b');
  } finally {
    await shard1.end();
  }
  await expectEqual(join.replace('stat_b b', '(SELECT * FROM stat_b WHERE b_id <= 600) b'));
  await waitFor(
    async () => {
      // Each coordinator statement notices changed statistics at most every few seconds; this one keeps asking.
      await rig.sharded.query(join);
      return (await estimates('stat_a')) === 3300;
    },
    { timeoutMs: 60_000, intervalMs: 500, what: 'the coordinator to analyze stat_a again' },
  );
  expect(await estimate('stat_b', 1)).toBe(before);
});
