// Writes that need a read across shards: which take the coordinator-fed route, what it carries, and which
// stay refused (the coordinator only reads; a value that depends on the written row cannot be computed once).
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser } from '../../../../src/sql/parser.js';
import { ShardMap } from '../../../../src/router/sharding/shard-map.js';
import type { ShardRoute } from '../../../../src/router/sharding/shard-route.js';
import { routeSql } from './route-sql.js';

const map = new ShardMap(
  {
    tables: { lineitem: 'l_orderkey', orders: 'o_orderkey', customer: 'c_custkey', archive: 'a_orderkey' },
    reference: ['nation'],
    default_shard: 0,
    algorithm: 'hash',
  },
  3,
);
const columns: Record<string, string[]> = {
  lineitem: ['l_orderkey', 'l_partkey', 'l_quantity'],
  orders: ['o_orderkey', 'o_custkey', 'o_total'],
  customer: ['c_custkey', 'c_segment'],
  archive: ['a_note', 'a_orderkey', 'a_total'],
};
const meta = (t: string) => (columns[t] ? { keyType: 'int' as const, columns: columns[t] } : undefined);

const route = (sql: string): ShardRoute => routeSql(sql, map, meta);

beforeAll(async () => {
  await loadParser();
});

describe('INSERT … SELECT into a sharded table', () => {
  it('reads its rows on the coordinator, the key found among the SELECT columns', () => {
    const r = route(
      'INSERT INTO archive SELECT c_segment, o_orderkey, o_total FROM orders JOIN customer ON c_custkey = o_custkey',
    );
    expect(r).toMatchObject({
      kind: 'write-from-read',
      write: { kind: 'insert-select', table: 'archive', keyIndex: 1 },
    });
    const named = route('INSERT INTO archive (a_orderkey, a_note) SELECT o_orderkey, $1 FROM orders');
    expect(named).toMatchObject({ write: { kind: 'insert-select', keyIndex: 0 } });
  });

  it('refuses EXPLAIN of it (on one shard alone, EXPLAIN ANALYZE would write there only)', () => {
    const r = route('EXPLAIN ANALYZE INSERT INTO archive (a_orderkey) SELECT o_orderkey FROM orders');
    expect(r).toMatchObject({ kind: 'unsupported', hint: 'use EXPLAIN ROUTE' });
  });

  it('moves the INSERT’s WITH clause into the SELECT the coordinator runs', () => {
    const r = route(
      'WITH x AS (SELECT o_orderkey FROM orders) INSERT INTO archive (a_orderkey) SELECT * FROM x',
    );
    if (r.kind !== 'write-from-read' || r.write.kind !== 'insert-select') throw new Error(JSON.stringify(r));
    expect(r.write.select.SelectStmt).toHaveProperty('withClause');
    expect(r.write.insert.withClause).toBeUndefined();
  });

  it('refuses what would change the meaning or write through the coordinator', () => {
    for (const [sql, message] of [
      [
        'INSERT INTO archive (a_orderkey) SELECT o_orderkey FROM orders ON CONFLICT (a_orderkey) DO UPDATE SET a_total = 0',
        /DO UPDATE/,
      ],
      [
        'INSERT INTO archive (a_orderkey) SELECT o_orderkey FROM orders RETURNING (SELECT count(*) FROM lineitem)',
        /RETURNING/,
      ],
      [
        'WITH d AS (DELETE FROM orders RETURNING o_orderkey) INSERT INTO archive (a_orderkey) SELECT * FROM d',
        /write/,
      ],
      ['INSERT INTO archive (a_orderkey) SELECT o_orderkey FROM orders FOR UPDATE', /FOR UPDATE/],
      ['INSERT INTO archive (a_note) SELECT c_segment FROM customer', /shard key/],
    ] as const) {
      expect(route(sql), sql).toMatchObject({ kind: 'unsupported', message: expect.stringMatching(message) });
    }
  });
});

describe('UPDATE and DELETE with subqueries across shards', () => {
  it('take the route for uncorrelated subqueries of every kind whose value is a constant', () => {
    for (const sql of [
      "DELETE FROM orders WHERE o_custkey IN (SELECT c_custkey FROM customer WHERE c_segment = 'x')",
      'UPDATE lineitem SET l_quantity = 0 WHERE l_orderkey IN (SELECT o_orderkey FROM orders WHERE o_total > 10)',
      'UPDATE orders SET o_total = (SELECT max(l_quantity) FROM lineitem) WHERE o_orderkey < 10',
      'DELETE FROM orders WHERE NOT EXISTS (SELECT 1 FROM customer WHERE c_segment = $1)',
      'DELETE FROM orders WHERE o_total > ALL (SELECT l_quantity FROM lineitem)',
    ]) {
      const r = route(sql);
      expect(r, sql).toMatchObject({ kind: 'write-from-read', write: { kind: 'subquery-values' } });
      if (r.kind === 'write-from-read' && r.write.kind === 'subquery-values')
        expect(r.write.sublinks).toHaveLength(1);
    }
  });

  it('evaluates a correlated EXISTS tied by one equality as IN over the subquery', () => {
    const r = route(
      "DELETE FROM orders o WHERE EXISTS (SELECT 1 FROM customer c WHERE c.c_custkey = o.o_custkey AND c.c_segment = 'x')",
    );
    if (r.kind !== 'write-from-read' || r.write.kind !== 'subquery-values')
      throw new Error(JSON.stringify(r));
    const [sub] = r.write.sublinks;
    expect(sub).toMatchObject({
      subLinkType: 'ANY_SUBLINK',
      testexpr: { ColumnRef: { fields: [{ String: { sval: 'o' } }, { String: { sval: 'o_custkey' } }] } },
    });
    expect(JSON.stringify(sub.subselect)).not.toMatch(/"sval":"o"/);
  });

  it('evaluates a correlated NOT EXISTS tied by one equality as an anti-join over non-NULL values', () => {
    const r = route(
      "DELETE FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customer c WHERE c.c_custkey = o.o_custkey AND c.c_segment = 'x')",
    );
    if (r.kind !== 'write-from-read' || r.write.kind !== 'subquery-values')
      throw new Error(JSON.stringify(r));
    const [sub] = r.write.sublinks;
    expect(sub).toMatchObject({ subLinkType: 'ANY_SUBLINK', polyproxyAntiJoin: true });
    expect(JSON.stringify(sub.subselect)).toMatch(/"nulltesttype":"IS_NOT_NULL"/);
  });

  it('refuses a subquery that depends on the row written in any other way, and a row comparison', () => {
    for (const sql of [
      'DELETE FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customer c WHERE c.c_custkey = o.o_custkey AND c.c_custkey > o.o_total)',
      'DELETE FROM orders o WHERE EXISTS (SELECT 1 FROM customer c WHERE c.c_custkey = o.o_custkey AND c.c_custkey > o.o_total)',
      'DELETE FROM orders o WHERE EXISTS (SELECT 1 FROM customer c WHERE c.c_custkey = o.o_custkey GROUP BY c.c_segment)',
      'UPDATE orders o SET o_total = (SELECT count(*) FROM customer c WHERE c.c_custkey = o.o_custkey)',
    ]) {
      expect(route(sql), sql).toMatchObject({
        kind: 'unsupported',
        message: expect.stringMatching(/depends on the row written/),
      });
    }
    const row = route(
      'DELETE FROM orders WHERE (o_orderkey, o_custkey) IN (SELECT l_orderkey, l_partkey FROM lineitem)',
    );
    expect(row).toMatchObject({ kind: 'unsupported' });
  });

  it('sees a RETURNING that reads another sharded table (never pinned to the written row’s shard)', () => {
    const r = route('DELETE FROM orders WHERE o_orderkey = 5 RETURNING (SELECT count(*) FROM lineitem)');
    expect(r).toMatchObject({ kind: 'unsupported' });
  });

  it('keeps the native routes where the shards answer alone', () => {
    expect(
      route(
        'DELETE FROM orders o WHERE NOT EXISTS (SELECT 1 FROM lineitem l WHERE l.l_orderkey = o.o_orderkey)',
      ),
    ).toMatchObject({ kind: 'multi-write' });
    expect(route('DELETE FROM orders WHERE o_orderkey = 5')).toMatchObject({ kind: 'single' });
  });
});
