// keyParamRoute: statements whose shard one parameter decides alone, checked against the full router.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseSql } from '../../../../src/sql/parser.js';
import type { Node } from '../../../../src/router/sharding/ast-values.js';
import { keyParamRoute } from '../../../../src/router/sharding/key-param-route.js';
import { routeStatement } from '../../../../src/router/sharding/shard-route.js';
import { ShardMap } from '../../../../src/router/sharding/shard-map.js';

beforeAll(async () => {
  await loadParser();
});

const map = new ShardMap(
  {
    tables: {
      users: 'id',
      events: {
        column: 'day',
        algorithm: 'range',
        ranges: [
          { shard: 0, to: 100 },
          { shard: 1, from: 100, to: 200 },
        ],
      },
    },
    reference: ['countries'],
    default_shard: 2,
    algorithm: 'hash',
  },
  3,
);
const meta = (t: string) =>
  t === 'users'
    ? { keyType: 'int' as const, columns: ['id', 'name'] }
    : { keyType: 'int' as const, columns: ['day'] };
const stmtOf = (sql: string) => (parseSql(sql) as { statements: Node[] }).statements[0];

describe('keyParamRoute', () => {
  it.each([
    'SELECT name FROM users WHERE id = $1',
    'SELECT name FROM users u WHERE u.id = $1::int8 AND name <> $2',
    'SELECT * FROM users WHERE $1 = id FOR UPDATE',
    'UPDATE users SET name = $2 WHERE id = $1',
    'DELETE FROM users WHERE name = $2 AND id = $1',
    'SELECT * FROM events WHERE day = $1',
  ])('routes %s as the router does, for every key', (sql) => {
    const stmt = stmtOf(sql);
    const r = keyParamRoute(stmt, map);
    expect(r).not.toBeNull();
    for (let key = -50; key < 300; key += 7) {
      const params = (n: number) => (n === r!.param ? String(key) : 'x');
      const full = routeStatement(stmt, { map, meta, params });
      expect(full.kind).toBe('single');
      const shard = r!.placement.shardOf(String(key), 'int') ?? map.defaultShard;
      expect({ shard, write: r!.write }).toEqual({
        shard: (full as { shard: number }).shard,
        write: (full as { write: boolean }).write,
      });
    }
  });

  it.each([
    ['the key twice', 'SELECT * FROM users WHERE id = $1 AND id = $2'],
    ['an OR', 'SELECT * FROM users WHERE id = $1 OR name = $2'],
    ['a literal key', 'SELECT * FROM users WHERE id = 5'],
    ['IN lists', 'SELECT * FROM users WHERE id IN ($1, $2)'],
    ['joins', 'SELECT * FROM users JOIN countries ON true WHERE id = $1'],
    ['subqueries', 'SELECT * FROM users WHERE id = $1 AND name IN (SELECT name FROM users)'],
    ['unsharded tables', 'SELECT * FROM settings WHERE id = $1'],
    ['an update of the key', 'UPDATE users SET id = $2 WHERE id = $1'],
    ['set operations', 'SELECT id FROM users WHERE id = $1 UNION SELECT id FROM users WHERE id = $2'],
  ])('leaves %s to the router', (_what, sql) => {
    expect(keyParamRoute(stmtOf(sql), map)).toBeNull();
  });
});
