// The sharding router sees every relation of a statement: views over sharded tables, subqueries and CTEs
// over other sharded tables, CTE names, outer joins; and its join hints never suggest another query.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseSql } from '../../../../src/sql/parser.js';
import { ShardMap } from '../../../../src/router/sharding/shard-map.js';
import { hashShard } from '../../../../src/router/sharding/pg-hash.js';
import { routeStatement, type ShardRoute } from '../../../../src/router/sharding/shard-route.js';
import type { ViewFacts } from '../../../../src/router/sharding/relation-kinds.js';

/** TPC-H's tables over three hash shards: lineitem co-located with orders, part and customer on their own keys. */
const map = new ShardMap(
  {
    tables: { lineitem: 'l_orderkey', orders: 'o_orderkey', part: 'p_partkey', customer: 'c_custkey' },
    reference: ['nation'],
    default_shard: 0,
    algorithm: 'hash',
  },
  3,
);
const columns: Record<string, string[]> = {
  lineitem: ['l_orderkey', 'l_partkey', 'l_suppkey', 'l_quantity'],
  orders: ['o_orderkey', 'o_custkey', 'o_comment'],
  part: ['p_partkey', 'p_size'],
  customer: ['c_custkey', 'c_name'],
};
const meta = (t: string) => (columns[t] ? { keyType: 'int' as const, columns: columns[t] } : undefined);
const views: Record<string, ViewFacts | undefined> = {
  v_lineitem: { materialized: false, reads: ['lineitem'] },
  v_over_view: { materialized: false, reads: ['lineitem', 'nation'] },
  mv_lineitem: { materialized: true, reads: ['lineitem'] },
  v_nation: { materialized: false, reads: ['nation'] },
  v_notes: { materialized: false, reads: ['notes'] },
};
/** The catalog: the views above, every other name a table; `unloaded` was never asked about. */
const viewOf = (name: string) => (name === 'unloaded' ? undefined : (views[name] ?? null));

function route(sql: string, opts: { catalog?: boolean } = {}): ShardRoute {
  const parsed = parseSql(sql);
  if (!parsed.ok) throw new Error(parsed.error);
  return routeStatement(parsed.statements[0], {
    map,
    meta,
    params: () => undefined,
    views: opts.catalog === false ? undefined : viewOf,
  });
}

const shardOf = (k: number) => hashShard('int', BigInt(k), 3);
/** Two keys on one shard, and one on another. */
const a = 1;
let same = 2;
while (shardOf(same) !== shardOf(a)) same++;
let other = 2;
while (shardOf(other) === shardOf(a)) other++;

beforeAll(() => loadParser());

describe('views over sharded tables', () => {
  it('refuses reads of a view or materialized view over a sharded table, wherever it appears', () => {
    for (const sql of [
      'SELECT count(*) FROM v_lineitem',
      'SELECT * FROM public.v_lineitem WHERE l_orderkey = 1',
      'SELECT * FROM nation WHERE n_nationkey IN (SELECT l_suppkey FROM v_lineitem)',
      'WITH x AS (SELECT * FROM v_over_view) SELECT count(*) FROM x',
      `SELECT count(*) FROM lineitem l JOIN v_lineitem v ON v.l_orderkey = l.l_orderkey WHERE l.l_orderkey = ${a}`,
    ]) {
      expect(route(sql), sql).toMatchObject({
        kind: 'unsupported',
        message: expect.stringMatching(/^view "v_(lineitem|over_view)" reads sharded table "lineitem"/),
        hint: expect.stringContaining('query "lineitem" in the statement itself'),
      });
    }
    expect(route('SELECT count(*) FROM mv_lineitem')).toMatchObject({
      kind: 'unsupported',
      message: expect.stringContaining(`materialized view "mv_lineitem" reads sharded table "lineitem"`),
    });
  });

  it('refuses writes and COPY through such a view', () => {
    for (const sql of [
      'UPDATE v_lineitem SET l_quantity = 1 WHERE l_orderkey = 1',
      'DELETE FROM v_lineitem',
      'INSERT INTO v_lineitem (l_orderkey) VALUES (1)',
      'COPY v_lineitem FROM STDIN',
    ])
      expect(route(sql), sql).toMatchObject({
        kind: 'unsupported',
        message: expect.stringContaining('view'),
      });
  });

  it('keeps views over reference and unsharded tables, and lets CTE names shadow views', () => {
    expect(route('SELECT * FROM v_nation')).toMatchObject({ kind: 'single', reason: 'reference-table' });
    expect(route('SELECT * FROM lineitem l JOIN v_nation n ON n.n_nationkey = l.l_suppkey')).toMatchObject({
      kind: 'scatter',
    });
    expect(route('SELECT * FROM v_notes')).toMatchObject({
      kind: 'single',
      shard: 0,
      reason: 'unsharded-table',
    });
    expect(route('SELECT * FROM lineitem l, v_notes n')).toMatchObject({
      kind: 'unsupported',
      hint: expect.stringContaining('add "notes" to sharding.reference'),
    });
    expect(route('WITH v_lineitem AS (SELECT 1 AS x) SELECT * FROM v_lineitem')).toMatchObject({
      kind: 'single',
      reason: 'no-table',
    });
  });

  it('creates views over sharded tables (their reads are refused) and refuses relations it knows nothing of', () => {
    expect(route('CREATE VIEW v AS SELECT * FROM lineitem')).toMatchObject({ kind: 'ddl' });
    expect(route('CREATE MATERIALIZED VIEW mv AS SELECT * FROM lineitem')).toMatchObject({ kind: 'ddl' });
    expect(route('SELECT * FROM unloaded')).toMatchObject({ kind: 'unsupported' });
    expect(route('SELECT count(*) FROM v_lineitem', { catalog: false })).toMatchObject({ kind: 'single' });
  });
});

describe('subqueries over other sharded tables in a statement pinned to one shard', () => {
  it('refuses the pinned statement when a subquery reads another sharded table across shards', () => {
    for (const sql of [
      `SELECT count(*) FROM lineitem WHERE l_orderkey = ${a} AND l_partkey IN (SELECT p_partkey FROM part)`,
      `SELECT l_orderkey, (SELECT max(p_size) FROM part) FROM lineitem WHERE l_orderkey = ${a}`,
      `SELECT count(*) FROM lineitem, (SELECT p_partkey FROM part) p WHERE l_orderkey = ${a} AND p.p_partkey = l_partkey`,
      `SELECT l_partkey, count(*) FROM lineitem WHERE l_orderkey = ${a} GROUP BY 1 HAVING count(*) < (SELECT count(*) FROM part)`,
      `SELECT * FROM lineitem l, LATERAL (SELECT * FROM part p WHERE p.p_partkey = l.l_partkey) x WHERE l.l_orderkey = ${a}`,
      `SELECT count(*) FROM lineitem WHERE l_orderkey = ${a} AND EXISTS (SELECT 1 FROM part WHERE p_partkey = ${other})`,
      `SELECT l_orderkey FROM lineitem WHERE l_orderkey = ${a} UNION SELECT p_partkey FROM part`,
    ]) {
      expect(route(sql), sql).toMatchObject({ kind: 'unsupported' });
    }
  });

  it('keeps one shard when every sharded table is restricted to it, by its own key or a co-located one', () => {
    for (const sql of [
      `SELECT count(*) FROM lineitem WHERE l_orderkey = ${a} AND l_partkey IN (SELECT p_partkey FROM part WHERE p_partkey = ${same})`,
      `SELECT * FROM orders o WHERE o_orderkey = ${a} AND EXISTS (SELECT 1 FROM lineitem l WHERE l.l_orderkey = o.o_orderkey)`,
      `SELECT o_orderkey, (SELECT count(*) FROM lineitem WHERE l_orderkey = o_orderkey) FROM orders WHERE o_orderkey = ${a}`,
      `SELECT l_orderkey FROM lineitem WHERE l_orderkey = ${a} UNION SELECT p_partkey FROM part WHERE p_partkey = ${same}`,
      `SELECT * FROM orders o LEFT JOIN lineitem l ON l.l_orderkey = o.o_orderkey WHERE o.o_orderkey = ${a}`,
    ]) {
      expect(route(sql), sql).toMatchObject({ kind: 'single', shard: shardOf(a) });
    }
  });

  it('scatters a statement whose subqueries are tied to the outer row by co-located keys, or read reference tables', () => {
    for (const sql of [
      'SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM lineitem l WHERE l.l_orderkey = o.o_orderkey)',
      'SELECT o_orderkey, (SELECT sum(l_quantity) FROM lineitem l WHERE l.l_orderkey = o.o_orderkey) FROM orders o',
      'SELECT * FROM orders o, LATERAL (SELECT count(*) FROM lineitem l WHERE l.l_orderkey = o.o_orderkey) x',
      'SELECT count(*) FROM lineitem WHERE l_suppkey IN (SELECT n_nationkey FROM nation)',
    ]) {
      expect(route(sql), sql).toMatchObject({ kind: 'scatter', shards: [0, 1, 2] });
    }
  });

  it('ties an unqualified outer key only when the subquery level cannot have a column of that name', () => {
    expect(
      route('SELECT o_orderkey, (SELECT count(*) FROM lineitem WHERE l_orderkey = o_orderkey) FROM orders'),
    ).toMatchObject({ kind: 'scatter' });
    // nation's columns are not known: o_orderkey could be one of them.
    expect(
      route('SELECT (SELECT count(*) FROM lineitem, nation WHERE l_orderkey = o_orderkey) FROM orders'),
    ).toMatchObject({ kind: 'unsupported' });
  });

  it('does not take a restriction of the nullable side of an outer join for the whole join', () => {
    expect(
      route(
        `SELECT * FROM orders o LEFT JOIN lineitem l ON l.l_orderkey = o.o_orderkey AND l.l_orderkey = ${a}`,
      ),
    ).toMatchObject({ kind: 'scatter', shards: [0, 1, 2] });
    // Orders without lineitems have a NULL l_orderkey on every shard, not on the shard of NULL keys.
    expect(
      route(
        'SELECT * FROM orders o LEFT JOIN lineitem l ON l.l_orderkey = o.o_orderkey WHERE l.l_orderkey IS NULL',
      ),
    ).toMatchObject({ kind: 'scatter', shards: [0, 1, 2] });
  });

  it('applies the same rule to UPDATE, DELETE and INSERT', () => {
    // The coordinator evaluates these subqueries first; the write then runs with their values.
    for (const sql of [
      `UPDATE lineitem SET l_quantity = 0 WHERE l_orderkey = ${a} AND l_partkey IN (SELECT p_partkey FROM part)`,
      `DELETE FROM lineitem WHERE l_orderkey = ${a} AND l_partkey = (SELECT min(p_partkey) FROM part)`,
    ]) {
      expect(route(sql), sql).toMatchObject({ kind: 'write-from-read', write: { kind: 'subquery-values' } });
    }
    for (const sql of [
      `INSERT INTO lineitem (l_orderkey, l_partkey) VALUES (${a}, (SELECT max(p_partkey) FROM part))`,
      'INSERT INTO notes SELECT count(*) FROM lineitem',
      'INSERT INTO nation SELECT DISTINCT l_suppkey FROM lineitem',
      `WITH gone AS (DELETE FROM part RETURNING p_partkey) SELECT count(*) FROM lineitem WHERE l_orderkey = ${a}`,
      'WITH n AS (INSERT INTO nation VALUES (99) RETURNING *) SELECT * FROM n',
    ]) {
      expect(route(sql), sql).toMatchObject({ kind: 'unsupported' });
    }
    expect(
      route(
        `DELETE FROM lineitem WHERE l_orderkey = ${a} AND l_partkey IN (SELECT p_partkey FROM part WHERE p_partkey = ${same})`,
      ),
    ).toMatchObject({ kind: 'single', shard: shardOf(a), write: true });
    expect(
      route(
        'DELETE FROM orders o WHERE NOT EXISTS (SELECT 1 FROM lineitem l WHERE l.l_orderkey = o.o_orderkey)',
      ),
    ).toMatchObject({ kind: 'multi-write', shards: [0, 1, 2], count: 'sum' });
    expect(
      route(
        `INSERT INTO lineitem (l_orderkey, l_partkey) VALUES (${a}, (SELECT max(p_partkey) FROM part WHERE p_partkey = ${same}))`,
      ),
    ).toMatchObject({ kind: 'single', shard: shardOf(a) });
  });

  it('refuses statements that would keep a sharded query for later or store one shard of it', () => {
    for (const sql of [
      'PREPARE p AS SELECT count(*) FROM lineitem',
      'DECLARE c CURSOR FOR SELECT * FROM lineitem',
      'CREATE TABLE copy AS SELECT * FROM lineitem',
      'SELECT * INTO copy FROM lineitem',
    ]) {
      expect(route(sql), sql).toMatchObject({ kind: 'unsupported' });
    }
    expect(route('PREPARE p AS SELECT * FROM nation')).toMatchObject({ kind: 'single' });
  });
});

describe('names defined by WITH', () => {
  it('resolves CTE names as CTEs, not as unsharded tables', () => {
    expect(
      route(
        'WITH r AS (SELECT n_nationkey FROM nation) SELECT count(*) FROM lineitem, r WHERE l_suppkey = r.n_nationkey',
      ),
    ).toMatchObject({ kind: 'scatter' });
    expect(
      route(`WITH r AS (SELECT 1 AS k) SELECT count(*) FROM lineitem, r WHERE l_orderkey = ${a}`),
    ).toMatchObject({ kind: 'single', shard: shardOf(a) });
    expect(route('WITH lineitem AS (SELECT 1 AS l_orderkey) SELECT * FROM lineitem')).toMatchObject({
      kind: 'single',
      reason: 'no-table',
    });
    expect(
      route('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r'),
    ).toMatchObject({ kind: 'single', reason: 'no-table' });
  });

  it('counts the tables inside a CTE body', () => {
    const sql = `WITH r AS (SELECT p_partkey FROM part) SELECT count(*) FROM lineitem, r WHERE l_orderkey = ${a} AND l_partkey = r.p_partkey`;
    expect(route(sql)).toMatchObject({ kind: 'unsupported', message: expect.stringContaining('"part"') });
    expect(route('WITH x AS (SELECT * FROM lineitem) SELECT * FROM x')).toMatchObject({
      kind: 'unsupported',
    });
    expect(
      route(
        `WITH r AS (SELECT p_partkey FROM part WHERE p_partkey = ${same}) SELECT count(*) FROM lineitem, r WHERE l_orderkey = ${a}`,
      ),
    ).toMatchObject({ kind: 'single', shard: shardOf(a) });
  });

  it('scopes CTE names to their query: outside it the name is a table again', () => {
    expect(route('SELECT * FROM lineitem, (WITH r AS (SELECT 1 AS x) SELECT * FROM r) s, r')).toMatchObject({
      kind: 'unsupported',
      message: expect.stringContaining('unsharded table "r"'),
    });
    expect(
      route(
        'SELECT * FROM lineitem l, (WITH r AS (SELECT 1 AS x) SELECT * FROM r) s WHERE l.l_orderkey = s.x',
      ),
    ).toMatchObject({ kind: 'scatter' });
  });
});

describe('join hints', () => {
  it('suggests no join condition the statement does not have', () => {
    const refused = route('SELECT * FROM customer c JOIN orders o ON o.o_custkey = c.c_custkey');
    expect(refused).toMatchObject({
      kind: 'unsupported',
      message: 'join of "customer" and "orders" is not on their shard keys',
      hint: expect.stringContaining(
        'the join equates c.c_custkey with o.o_custkey: sharding "orders" by "o_custkey"',
      ),
    });
    expect(JSON.stringify(refused)).not.toContain('c.c_custkey = o.o_orderkey');
    const unrelated = route('SELECT * FROM customer c, orders o WHERE c.c_name = o.o_comment');
    expect(unrelated).toMatchObject({
      kind: 'unsupported',
      hint: 'restrict every sharded table of the statement to the same shard by its key, or make "orders" a reference table',
    });
    expect(route('SELECT * FROM customer c, part p')).toMatchObject({
      kind: 'unsupported',
      hint: expect.not.stringContaining(' = '),
    });
  });

  it('answers a join of tables each restricted to the same shard by its own key on that shard', () => {
    expect(
      route(`SELECT * FROM customer c, orders o WHERE c.c_custkey = ${a} AND o.o_orderkey = ${same}`),
    ).toMatchObject({ kind: 'single', shard: shardOf(a) });
    expect(
      route(`SELECT * FROM customer c, orders o WHERE c.c_custkey = ${a} AND o.o_orderkey = ${other}`),
    ).toMatchObject({ kind: 'unsupported' });
  });
});
