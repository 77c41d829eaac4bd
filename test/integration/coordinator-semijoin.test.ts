// The coordinator's semi-join reduction against one plain PostgreSQL: reference tables with NULL keys,
// outer joins, ORs and NOTs around them give the same answers as without the reduction, and EXPLAIN ROUTE
// shows the reference side's keys sent to the shards.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sortedAnswer as answer, startShardedRig, type ShardedRig } from './sharding-helpers.js';

const schema = [
  'CREATE TABLE item (i_id int8, i_supp int8, i_code text, i_qty int4)',
  'CREATE TABLE supp (s_id int8, s_nation int8, s_code text)',
  'CREATE TABLE nat (n_id int8, n_name text)',
  // Sharded on another key: a join of item with it is not co-located, so these reads go to the coordinator.
  'CREATE TABLE tag (t_id int8, t_item int8)',
];

function rows(): string[] {
  const items = Array.from({ length: 300 }, (_, i) => {
    const supp = i % 13 === 0 ? 'NULL' : String(i % 40);
    const code = i % 17 === 0 ? 'NULL' : `'c${i % 9}'`;
    return `(${i + 1}, ${supp}, ${code}, ${i % 50})`;
  });
  const supps = Array.from({ length: 45 }, (_, i) => {
    const id = i === 44 ? 'NULL' : String(i);
    const nation = i % 11 === 0 ? 'NULL' : String(i % 6);
    return `(${id}, ${nation}, ${i % 7 === 0 ? 'NULL' : `'c${i % 9}'`})`;
  });
  const nats = ["(0, 'A')", "(1, 'B')", "(2, 'C')", '(3, NULL)', "(NULL, 'A')", "(5, 'It''s')"];
  return [
    `INSERT INTO item VALUES ${items.join(', ')}`,
    `INSERT INTO supp VALUES ${supps.join(', ')}`,
    `INSERT INTO nat VALUES ${nats.join(', ')}`,
    `INSERT INTO tag SELECT g, g % 310 FROM generate_series(1, 400) g`,
  ];
}

let rig: ShardedRig;
let sharded: pg.Client;
let single: pg.Client;

/** Through the proxy and on the plain server: the same rows (in any order), never a refusal. */
async function expectEqual(sql: string, values?: unknown[]): Promise<void> {
  const got = await answer(sharded, sql, values);
  expect(got, sql).not.toHaveProperty('error');
  expect(got, sql).toEqual(await answer(single, sql, values));
}

beforeAll(async () => {
  rig = await startShardedRig({
    sharding: { tables: { item: 'i_id', tag: 't_id' }, reference: ['supp', 'nat'] },
    single: 'coordinator_semijoin',
  });
  ({ sharded, single } = rig);
  for (const c of [sharded, single]) for (const sql of [...schema, ...rows()]) await c.query(sql);
});

afterAll(() => rig?.stop());

describe('semi-join reduction on the coordinator', () => {
  it('answers joins to filtered reference tables as one PostgreSQL does, NULL keys and all', async () => {
    const queries = [
      `SELECT i_id, s_id FROM tag, item, supp, nat WHERE t_item = i_id AND i_supp = s_id AND s_nation = n_id AND n_name = 'A'`,
      `SELECT i_id FROM tag JOIN item ON t_item = i_id JOIN supp ON i_supp = s_id WHERE s_nation IS NULL`,
      `SELECT i_id, s_id FROM tag JOIN item ON t_item = i_id JOIN supp ON i_code = s_code JOIN nat ON s_nation = n_id WHERE n_name IN ('B', 'It''s')`,
      `SELECT count(*) FROM tag, item, supp s, nat n1, nat n2 WHERE t_item = i_id AND i_supp = s.s_id AND s.s_nation = n1.n_id
         AND i_qty % 6 = n2.n_id AND ((n1.n_name = 'A' AND n2.n_name = 'B') OR (n1.n_name = 'B' AND n2.n_name = 'A'))`,
      `SELECT i_id, s_id FROM tag JOIN item ON t_item = i_id LEFT JOIN supp ON i_supp = s_id AND s_nation = 1`,
      `SELECT i_id, s_id FROM supp RIGHT JOIN (tag JOIN item ON t_item = i_id) ON i_supp = s_id WHERE s_nation = 2 OR s_nation IS NULL`,
      `SELECT i_id, s_id FROM tag JOIN item ON t_item = i_id FULL JOIN supp ON i_supp = s_id WHERE s_nation = 2 OR i_id < 5`,
      `SELECT i_id FROM tag, item, supp WHERE t_item = i_id AND (i_supp = s_id OR s_nation = 3)`,
      `SELECT i_id FROM tag, item, supp WHERE t_item = i_id AND NOT (i_supp <> s_id) AND s_nation = 3`,
      `SELECT i_id FROM tag, item WHERE t_item = i_id AND i_supp IN (SELECT s_id FROM supp WHERE s_nation = 4)`,
      `SELECT i_id FROM tag, item WHERE t_item = i_id AND NOT EXISTS (SELECT 1 FROM supp, nat WHERE s_id = i_supp AND s_nation = n_id AND n_name = 'C')`,
      `SELECT s_nation, count(*), sum(i_qty) FROM tag, item, supp WHERE t_item = i_id AND i_supp = s_id AND s_code IS NOT NULL
         GROUP BY s_nation HAVING count(*) > 2`,
      `SELECT i_id FROM tag, item, supp WHERE t_item = i_id AND i_supp = s_id AND s_nation = 99`,
      `WITH s AS (SELECT s_id FROM supp WHERE s_nation = 1) SELECT i_id FROM tag, item, s WHERE t_item = i_id AND i_supp = s.s_id`,
    ];
    for (const sql of queries) {
      await expectEqual(sql);
      const route = (await sharded.query(`EXPLAIN ROUTE ${sql}`)).rows.map((r) => Object.values(r)[0]);
      expect(String(route[0]), sql).toMatch(/^Coordinator/);
    }
    await expectEqual(
      'SELECT i_id FROM tag, item, supp WHERE t_item = i_id AND i_supp = s_id AND s_nation = $1 AND i_qty > $2',
      [2, 10],
    );
  });

  it('sends the reference side’s keys to the shards, and none through an outer join’s nullable side', async () => {
    const pushed = async (sql: string) =>
      (await sharded.query(`EXPLAIN ROUTE ${sql}`)).rows
        .map((r: Record<string, string>) => Object.values(r)[0])
        .filter((line) => line.trim().startsWith('Push'))
        .join('\n');
    const inner = await pushed(
      `SELECT i_id, s_id FROM tag, item, supp, nat WHERE t_item = i_id AND i_supp = s_id AND s_nation = n_id AND n_name = 'A'`,
    );
    expect(inner).toMatch(/i_supp = ANY \('\{[0-9,]+\}'::bigint\[\]\)/);
    const outer = await pushed(
      `SELECT i_id, s_id FROM item LEFT JOIN supp ON i_supp = s_id AND s_nation = 1`,
    );
    expect(outer).not.toMatch(/ANY/);
  });

  it('sees a reference table change in the keys of the next statement', async () => {
    const sql = `SELECT i_id FROM tag, item, supp, nat WHERE t_item = i_id AND i_supp = s_id AND s_nation = n_id AND n_name = 'C'`;
    await expectEqual(sql);
    for (const c of [sharded, single]) await c.query(`UPDATE nat SET n_name = 'C' WHERE n_id = 0`);
    await expectEqual(sql);
  });
});
