// Enum columns on the coordinator: the shards' enum types are created there before the tables, and kept
// in step when a value is added through the proxy; answers compared with one plain PostgreSQL.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sortedAnswer as answer, startShardedRig, type ShardedRig } from './sharding-helpers.js';

let rig: ShardedRig;
let sharded: pg.Client;
let single: pg.Client;

/** Through the proxy and on the plain server: the same rows (in any order), never a refusal. */
async function expectEqual(sql: string): Promise<void> {
  const got = await answer(sharded, sql);
  expect(got, sql).not.toHaveProperty('error');
  expect(got, sql).toEqual(await answer(single, sql));
}

beforeAll(async () => {
  rig = await startShardedRig({
    sharding: { tables: { ticket: 't_id', note: 'n_id' }, reference: ['kind'] },
    single: 'coordinator_enums',
  });
  ({ sharded, single } = rig);
  const setup = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    'CREATE TABLE ticket (t_id int8, t_mood mood, t_kind int4)',
    'CREATE TABLE note (n_id int8, n_ticket int8, n_mood mood)',
    'CREATE TABLE kind (k_id int4, k_mood mood)',
    `INSERT INTO ticket SELECT g, (ARRAY['sad', 'ok', 'happy', NULL])[g % 4 + 1]::mood, g % 3 FROM generate_series(1, 60) g`,
    `INSERT INTO note SELECT g, g % 61, (ARRAY['happy', 'sad', 'ok'])[g % 3 + 1]::mood FROM generate_series(1, 90) g`,
    "INSERT INTO kind VALUES (0, 'sad'), (1, 'happy'), (2, NULL)",
  ];
  for (const c of [sharded, single]) for (const sql of setup) await c.query(sql);
});

afterAll(() => rig?.stop());

describe('enum columns on the coordinator', () => {
  it('answers joins off the shard keys over enum columns as one PostgreSQL does', async () => {
    const queries = [
      'SELECT t_id, t_mood, n_mood FROM ticket JOIN note ON n_ticket = t_id WHERE t_mood = n_mood',
      "SELECT t_mood, count(*) FROM ticket JOIN note ON n_ticket = t_id WHERE n_mood > 'sad' GROUP BY t_mood ORDER BY t_mood",
      'SELECT t_id, k_mood FROM ticket JOIN note ON n_ticket = t_id JOIN kind ON k_id = t_kind AND k_mood = t_mood',
      'SELECT max(t_mood), min(n_mood) FROM ticket JOIN note ON n_ticket = t_id',
    ];
    for (const sql of queries) {
      await expectEqual(sql);
      const route = (await sharded.query(`EXPLAIN ROUTE ${sql}`)).rows.map((r) => Object.values(r)[0]);
      expect(String(route[0]), sql).toMatch(/^Coordinator/);
    }
  });

  it('sees a value added through the proxy', async () => {
    for (const c of [sharded, single]) {
      await c.query("ALTER TYPE mood ADD VALUE 'ecstatic' AFTER 'happy'");
      await c.query("UPDATE note SET n_mood = 'ecstatic' WHERE n_id % 5 = 0");
      await c.query("UPDATE ticket SET t_mood = 'ecstatic' WHERE t_id % 7 = 0");
    }
    await expectEqual(
      "SELECT t_id, t_mood, n_mood FROM ticket JOIN note ON n_ticket = t_id WHERE n_mood >= 'happy' OR t_mood = 'ecstatic'",
    );
  });
});
