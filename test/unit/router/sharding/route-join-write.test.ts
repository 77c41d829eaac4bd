// UPDATE … FROM / DELETE … USING sharded tables not co-located with the target: which take the coordinator-fed
// join route, what it carries (the joined tables' named columns, the coordinator's filter), and which are refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser } from '../../../../src/sql/parser.js';
import { ShardMap } from '../../../../src/router/sharding/shard-map.js';
import type { ShardRoute } from '../../../../src/router/sharding/shard-route.js';
import type { WriteWithJoin } from '../../../../src/router/sharding/write-from-read.js';
import { toSql } from '../../../../src/planner/sql-text.js';
import { routeSql } from './route-sql.js';

const map = new ShardMap(
  {
    tables: { lineitem: 'l_orderkey', orders: 'o_orderkey', customer: 'c_custkey' },
    reference: ['nation'],
    default_shard: 0,
    algorithm: 'hash',
  },
  3,
);
const columns: Record<string, string[]> = {
  lineitem: ['l_orderkey', 'l_partkey', 'l_quantity'],
  orders: ['o_orderkey', 'o_custkey', 'o_total'],
  customer: ['c_custkey', 'c_segment', 'c_nation'],
};
const meta = (t: string) => (columns[t] ? { keyType: 'int' as const, columns: columns[t] } : undefined);

const route = (sql: string): ShardRoute => routeSql(sql, map, meta);

function joinOf(sql: string): WriteWithJoin {
  const r = route(sql);
  if (r.kind !== 'write-from-read' || r.write.kind !== 'join-values') throw new Error(JSON.stringify(r));
  return r.write;
}

beforeAll(async () => {
  await loadParser();
});

describe('UPDATE … FROM and DELETE … USING across shards', () => {
  it('read the joined table’s named columns only, qualified or not, and run on the target’s shards', () => {
    const w = joinOf(
      "UPDATE orders o SET o_total = o_total + c.c_nation FROM customer c WHERE c.c_custkey = o.o_custkey AND c_segment = 'x'",
    );
    expect(w).toMatchObject({ table: 'orders', shards: [0, 1, 2] });
    expect(w.items).toEqual([
      { index: 0, qualifier: 'c', table: 'customer', columns: ['c_custkey', 'c_segment', 'c_nation'] },
    ]);
    const del = joinOf(
      'DELETE FROM lineitem USING orders, nation WHERE o_orderkey = l_partkey AND lineitem.l_orderkey = 7',
    );
    expect(del.items).toEqual([{ index: 0, qualifier: 'orders', table: 'orders', columns: ['o_orderkey'] }]);
    expect(del.shards).toHaveLength(1);
  });

  it('leaves conjuncts calling functions out of the coordinator’s filter (they may be volatile)', () => {
    const w = joinOf(
      'DELETE FROM orders USING customer c WHERE c.c_custkey = orders.o_custkey AND random() < 0.5 AND c.c_nation > now()::date - current_date',
    );
    expect(toSql({ SelectStmt: { whereClause: w.filter, op: 'SETOP_NONE' } })).toMatch(
      /^SELECT WHERE c\.c_custkey = orders\.o_custkey$/,
    );
  });

  it('keeps the shards’ own routes where the join is co-located on the keys', () => {
    expect(route('UPDATE orders SET o_total = 0 FROM lineitem WHERE l_orderkey = o_orderkey')).toMatchObject({
      kind: 'multi-write',
    });
  });

  it('refuses what would change the meaning', () => {
    for (const [sql, message] of [
      [
        'UPDATE orders SET o_total = 0 FROM customer c WHERE c.c_custkey = o_custkey RETURNING *',
        /whole row/,
      ],
      [
        'UPDATE orders SET o_total = 0 FROM customer c WHERE c.c_custkey = o_custkey RETURNING c.*',
        /whole row/,
      ],
      ['DELETE FROM orders USING customer c WHERE c = ROW(1, 2, 3)', /whole row/],
      [
        'UPDATE orders SET o_total = 0 FROM customer c JOIN nation n ON true WHERE c.c_custkey = o_custkey',
        /plain tables/,
      ],
      ['WITH x AS (SELECT 1) DELETE FROM orders USING customer c WHERE c.c_custkey = o_custkey', /WITH/],
      ['UPDATE customer SET c_custkey = 1 FROM orders WHERE o_custkey = c_custkey', /shard key/],
      [
        'DELETE FROM orders USING customer c WHERE c.c_custkey = o_custkey AND o_total IN (SELECT l_quantity FROM lineitem)',
        /target one shard/,
      ],
    ] as const) {
      expect(route(sql), sql).toMatchObject({ kind: 'unsupported', message: expect.stringMatching(message) });
    }
  });
});
