// The sharding router: key extraction from WHERE, INSERT rows, UPDATE/DELETE, joins, and refusals (0A000).
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseSql } from '../../../../src/sql/parser.js';
import { ShardMap } from '../../../../src/router/sharding/shard-map.js';
import { hashShard } from '../../../../src/router/sharding/pg-hash.js';
import { routeStatement, type ShardRoute } from '../../../../src/router/sharding/shard-route.js';
import { parseArrayLiteral } from '../../../../src/router/sharding/ast-values.js';

const map = new ShardMap(
  {
    tables: {
      users: 'id',
      orders: 'user_id',
      events: {
        column: 'day',
        algorithm: 'range',
        ranges: [
          { shard: 0, to: 10 },
          { shard: 1, from: 10, to: 20 },
          { shard: 2, from: 20 },
        ],
      },
    },
    reference: ['countries'],
    default_shard: 0,
    algorithm: 'hash',
  },
  3,
);
const meta = (t: string) =>
  t === 'users' ? { keyType: 'int' as const, columns: ['id', 'name', 'country'] } : undefined;

function route(sql: string, params: (string | null)[] = []): ShardRoute {
  const parsed = parseSql(sql);
  if (!parsed.ok) throw new Error(parsed.error);
  return routeStatement(parsed.statements[0], { map, meta, params: (n) => params[n - 1] });
}

const shardOf = (k: number) => hashShard('int', BigInt(k), 3);
/** Keys on three different shards. */
const keys: number[] = [];
for (let k = 1; keys.length < 3; k++) if (!keys.some((x) => shardOf(x) === shardOf(k))) keys.push(k);

beforeAll(() => loadParser());

describe('routeStatement', () => {
  it('sends key = literal, parameter and cast to the key shard', () => {
    expect(route('SELECT * FROM users WHERE id = 7')).toMatchObject({ kind: 'single', shard: shardOf(7) });
    expect(route('SELECT * FROM users WHERE id = $1', ['7'])).toMatchObject({
      kind: 'single',
      shard: shardOf(7),
    });
    expect(route("SELECT * FROM users u WHERE u.id = '7'::int8 AND name = 'x'")).toMatchObject({
      kind: 'single',
      shard: shardOf(7),
    });
  });

  it('scatters IN and ANY lists over the shards of their keys, and unkeyed reads over all', () => {
    const [a, b] = keys;
    expect(route(`SELECT * FROM users WHERE id IN (${a}, ${b})`)).toEqual({
      kind: 'scatter',
      shards: [shardOf(a), shardOf(b)].sort(),
      reason: 'shard-keys',
    });
    expect(route('SELECT * FROM users WHERE id = ANY($1)', [`{${a},${a}}`])).toMatchObject({
      kind: 'single',
      shard: shardOf(a),
    });
    expect(route('SELECT * FROM users WHERE name = $1', ['x'])).toMatchObject({
      kind: 'scatter',
      shards: [0, 1, 2],
    });
    expect(route(`SELECT * FROM users WHERE id = ${a} OR name = 'x'`)).toMatchObject({ kind: 'scatter' });
  });

  it('routes range keys', () => {
    expect(route('SELECT * FROM events WHERE day = 15')).toMatchObject({ kind: 'single', shard: 1 });
  });

  it('pushes co-located joins and reference joins down, refuses other joins with a hint', () => {
    expect(route('SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = 7')).toMatchObject({
      kind: 'single',
      shard: shardOf(7),
    });
    expect(route('SELECT * FROM users u JOIN orders o ON o.user_id = u.id')).toMatchObject({
      kind: 'scatter',
    });
    expect(route('SELECT * FROM users u JOIN countries c ON c.code = u.country')).toMatchObject({
      kind: 'scatter',
    });
    const bad = route('SELECT * FROM users u JOIN orders o ON o.id = u.id');
    expect(bad).toMatchObject({
      kind: 'unsupported',
      hint: expect.stringContaining('sharding "orders" by "id"'),
    });
    expect(route('SELECT * FROM users u JOIN events e ON e.day = u.id')).toMatchObject({
      kind: 'unsupported',
      message: expect.stringContaining('co-located'),
    });
    expect(route('SELECT * FROM users u JOIN settings s ON s.id = u.id')).toMatchObject({
      kind: 'unsupported',
      hint: expect.stringContaining('sharding.reference'),
    });
  });

  it('refuses subqueries over sharded tables spanning shards, allows them on one shard', () => {
    expect(route('SELECT * FROM users WHERE id IN (SELECT user_id FROM orders)')).toMatchObject({
      kind: 'unsupported',
    });
    expect(route('WITH x AS (SELECT * FROM users) SELECT * FROM x')).toMatchObject({ kind: 'unsupported' });
    expect(
      route('SELECT * FROM users WHERE id = 7 AND EXISTS (SELECT 1 FROM orders WHERE user_id = 7)'),
    ).toMatchObject({ kind: 'single' });
  });

  it('reads reference and unsharded tables on one shard', () => {
    expect(route('SELECT * FROM countries')).toMatchObject({
      kind: 'single',
      shard: 0,
      reason: 'reference-table',
    });
    expect(route('SELECT now()')).toMatchObject({ kind: 'single', reason: 'no-table' });
    expect(route('SELECT * FROM settings')).toMatchObject({ kind: 'single', reason: 'unsharded-table' });
  });

  it('splits multi-row INSERTs by key, keeps one-shard INSERTs whole', () => {
    const [a, b, c] = keys;
    expect(route(`INSERT INTO users (id, name) VALUES (${a}, 'x')`)).toMatchObject({
      kind: 'single',
      shard: shardOf(a),
    });
    expect(route("INSERT INTO users VALUES ($1, 'x')", [String(b)])).toMatchObject({
      kind: 'single',
      shard: shardOf(b),
    });
    const split = route(
      `INSERT INTO users (name, id) VALUES ('a', ${a}), ('b', ${b}), ('c', ${c}), ('d', ${a})`,
    );
    expect(split.kind).toBe('insert-split');
    if (split.kind !== 'insert-split') return;
    expect(split.parts.map((p) => p.shard)).toEqual([0, 1, 2]);
    const rowsOf = (s: number) =>
      (
        split.parts.find((p) => p.shard === s)!.stmt.InsertStmt as {
          selectStmt: { SelectStmt: { valuesLists: unknown[] } };
        }
      ).selectStmt.SelectStmt.valuesLists.length;
    expect(rowsOf(shardOf(a))).toBe(2);
    expect(route('INSERT INTO users (id) SELECT 1')).toMatchObject({
      kind: 'write-from-read',
      write: { kind: 'insert-select', keyIndex: 0 },
    });
    expect(route("INSERT INTO users (name) VALUES ('x')")).toMatchObject({
      kind: 'unsupported',
      message: expect.stringContaining('shard key'),
    });
    expect(route('INSERT INTO countries VALUES (1)')).toMatchObject({ kind: 'multi-write', count: 'first' });
  });

  it('routes UPDATE and DELETE by key, refuses updating the key', () => {
    expect(route("UPDATE users SET name = 'n' WHERE id = 7")).toMatchObject({
      kind: 'single',
      shard: shardOf(7),
    });
    expect(route('DELETE FROM users WHERE name = $1', ['x'])).toMatchObject({
      kind: 'multi-write',
      count: 'sum',
      shards: [0, 1, 2],
    });
    expect(route('UPDATE users SET id = 8 WHERE id = 7')).toMatchObject({
      kind: 'unsupported',
      message: expect.stringContaining('shard key'),
    });
  });

  it('sends DDL to every shard and splits COPY FROM STDIN by key', () => {
    expect(route('CREATE TABLE t (id int)')).toEqual({
      kind: 'ddl',
      shards: [0, 1, 2],
      reason: 'ddl-all-shards',
    });
    expect(route('COPY users (name, id) FROM STDIN')).toMatchObject({ kind: 'copy-in', keyIndex: 1 });
    expect(route('COPY users FROM STDIN WITH (FORMAT csv)')).toMatchObject({ kind: 'copy-in', keyIndex: 0 });
    expect(route('COPY users TO STDOUT')).toMatchObject({ kind: 'unsupported' });
  });

  it('reads array literals', () => {
    expect(parseArrayLiteral('{1, 2,"a,b",NULL,"NULL"}')).toEqual(['1', '2', 'a,b', null, 'NULL']);
  });
});
