// The coordinator's decorrelation of aggregate subqueries against one plain PostgreSQL: NULL keys on both
// sides, NULL aggregated values, groups with no rows and aggregates of every kind give the same answers as
// the correlated form, and the shards are sent one grouped read instead of one read per outer row.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sortedAnswer as answer, startShardedRig, type ShardedRig } from './sharding-helpers.js';

const schema = [
  'CREATE TABLE prt (p_id int8, p_size int4, p_grp int8)',
  // Sharded on its own id: joined to prt on c_part it is not co-located, so these reads go to the coordinator.
  'CREATE TABLE cost (c_id int8, c_part int8, c_supp int8, c_val numeric)',
  'CREATE TABLE sup (s_id int8, s_region int8)',
];

function rows(): string[] {
  const parts = Array.from(
    { length: 200 },
    (_, i) => `(${i + 1}, ${i % 30}, ${i % 7 === 0 ? 'NULL' : i % 50})`,
  );
  // Parts 180-200 have no cost rows (empty groups); parts that are multiples of 5 only NULL values.
  const costs = Array.from({ length: 600 }, (_, j) => {
    const i = j + 1;
    const part = i % 11 === 0 ? 'NULL' : String(i % 180);
    const supp = i % 13 === 0 ? 'NULL' : String(i % 40);
    const val = i % 5 === 0 ? 'NULL' : `${(i * 7) % 97}.25`;
    return `(${i}, ${part}, ${supp}, ${val})`;
  });
  const sups = Array.from(
    { length: 45 },
    (_, i) => `(${i === 44 ? 'NULL' : i}, ${i % 9 === 0 ? 'NULL' : i % 5})`,
  );
  return [
    `INSERT INTO prt VALUES ${parts.join(', ')}`,
    `INSERT INTO cost VALUES ${costs.join(', ')}`,
    `INSERT INTO sup VALUES ${sups.join(', ')}`,
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

const pushed = async (sql: string) =>
  (await sharded.query(`EXPLAIN ROUTE ${sql}`)).rows
    .map((r: Record<string, string>) => Object.values(r)[0])
    .filter((line) => line.trim().startsWith('Push'))
    .join('\n');

beforeAll(async () => {
  rig = await startShardedRig({
    sharding: { tables: { prt: 'p_id', cost: 'c_id' }, reference: ['sup'] },
    single: 'coordinator_decorrelate',
  });
  ({ sharded, single } = rig);
  for (const c of [sharded, single]) for (const sql of [...schema, ...rows()]) await c.query(sql);
});

afterAll(() => rig?.stop());

const q2 = (agg: string, op = '=', key = 'p_id') =>
  `SELECT p_id, c_id, c_val FROM prt, cost WHERE p_id = c_part AND p_size < 25
     AND c_val ${op} (SELECT ${agg}(c2.c_val) FROM cost c2, sup WHERE ${key} = c2.c_part AND c2.c_supp = s_id AND s_region = 1)`;

describe('decorrelation on the coordinator', () => {
  it('answers correlated min, max, sum and avg comparisons as one PostgreSQL does, NULLs and empty groups too', async () => {
    const queries = [
      q2('min'),
      q2('max'),
      q2('max', '<'),
      q2('sum', '<='),
      q2('avg', '>'),
      q2('min', '>=', 'p_grp'),
      q2('count', '>'),
      `SELECT p_id, c_id FROM prt, cost WHERE p_id = c_part
         AND c_val < (SELECT 0.9 * avg(c2.c_val) FROM cost c2 WHERE c2.c_part = p_id)`,
      `SELECT p_id FROM prt, cost WHERE p_id = c_id
         AND p_size > (SELECT min(c2.c_val) FROM cost c2 WHERE c2.c_part = p_grp)`,
      `SELECT p_id, p_size FROM prt JOIN cost ON p_grp = c_part
         WHERE (SELECT avg(c2.c_val) FROM cost c2 WHERE c2.c_part = prt.p_id) IS NULL`,
      `SELECT p_size, count(*) FROM prt, cost WHERE p_id = c_part
         AND c_val = (SELECT max(c2.c_val) FROM cost c2 WHERE c2.c_part = p_id) GROUP BY p_size`,
    ];
    for (const sql of queries) {
      await expectEqual(sql);
      const route = (await sharded.query(`EXPLAIN ROUTE ${sql}`)).rows.map((r) => Object.values(r)[0]);
      expect(String(route[0]), sql).toMatch(/^Coordinator/);
    }
    await expectEqual(`${q2('min')} AND p_size > $1`, [3]);
  });

  it('sends the shards one grouped read with the reference side’s keys, not one read per outer row', async () => {
    const flat = await pushed(q2('min'));
    expect(flat).not.toMatch(/c2_\d sql=.*\$1/);
    expect(flat).toMatch(/c_supp = ANY \('\{[0-9,]+\}'::bigint\[\]\)/);
    // count stays correlated: its subquery is read once per outer row, with the outer key as a parameter.
    expect(await pushed(q2('count'))).toMatch(/c2_\d sql=.*\$1/);
  });
});
