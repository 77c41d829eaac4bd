// EXPLAIN on a sharded database: a plan from one shard is fine, but EXPLAIN ANALYZE runs the statement, so a
// write on several shards must be refused rather than written on the first shard alone.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser } from '../../../../src/sql/parser.js';
import { ShardMap } from '../../../../src/router/sharding/shard-map.js';
import type { ShardRoute } from '../../../../src/router/sharding/shard-route.js';
import { routeSql } from './route-sql.js';

const map = new ShardMap({ tables: { orders: 'id' }, reference: [], default_shard: 0, algorithm: 'hash' }, 3);
const meta = (t: string) => (t === 'orders' ? { keyType: 'int' as const, columns: ['id', 'v'] } : undefined);

const route = (sql: string): ShardRoute => routeSql(sql, map, meta);

beforeAll(async () => {
  await loadParser();
});

describe('EXPLAIN of sharded statements', () => {
  it.each([
    'EXPLAIN ANALYZE UPDATE orders SET v = 1',
    'EXPLAIN (ANALYZE) DELETE FROM orders WHERE v > 3',
    'EXPLAIN (ANALYZE true, COSTS off) UPDATE orders SET v = 2 WHERE id IN (1, 2, 3, 4)',
    'EXPLAIN (ANALYZE on) INSERT INTO orders (id, v) VALUES (1, 1), (2, 2), (3, 3), (4, 4)',
    'EXPLAIN (ANALYZE 1) DELETE FROM orders',
  ])('refuses %s (it would write on one shard only)', (sql) => {
    expect(route(sql)).toMatchObject({ kind: 'unsupported', hint: expect.stringContaining('EXPLAIN ROUTE') });
  });

  it.each([
    'EXPLAIN UPDATE orders SET v = 1',
    'EXPLAIN (ANALYZE false) UPDATE orders SET v = 1',
    'EXPLAIN (ANALYZE off) DELETE FROM orders',
    'EXPLAIN (ANALYZE 0) DELETE FROM orders',
    'EXPLAIN ANALYZE SELECT * FROM orders',
  ])('plans %s on the first shard without writing', (sql) => {
    expect(route(sql)).toMatchObject({ kind: 'single', shard: 0, write: false });
  });

  it('runs EXPLAIN ANALYZE of a one-shard write on that shard, as a write', () => {
    expect(route('EXPLAIN ANALYZE UPDATE orders SET v = 1 WHERE id = 7')).toMatchObject({
      kind: 'single',
      write: true,
    });
  });
});
