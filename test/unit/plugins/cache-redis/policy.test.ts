// Which statements the cache serves and stores, decided from real parses of real SQL.
import { beforeAll, describe, expect, it } from 'vitest';
import { CachePolicy, parseCacheHint } from '../../../../src/plugins/builtin/cache-redis/policy.js';
import { loadParser } from '../../../../src/sql/parser.js';
import { makeStatement, type StatementOptions } from './harness.js';

beforeAll(() => loadParser());

const policy = new CachePolicy({
  tables: { users: 120_000, orders: null, 'shop.items': 5_000 },
  default_ttl: 60_000,
});
const verdict = (sql: string, opts: StatementOptions = {}) => policy.verdict(makeStatement(sql, opts));

describe('cacheable reads', () => {
  it.each([
    ['SELECT * FROM users WHERE id = $1', 120_000],
    ['SELECT u.name, count(*) FROM users u JOIN orders o ON o.user_id = u.id GROUP BY 1', 60_000],
    ['SELECT * FROM public.users', 120_000],
    ['SELECT * FROM shop.items', 5_000],
    ['SELECT * FROM items', 5_000],
    ['WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN users ON true', 60_000],
    ['SELECT * FROM users WHERE id IN (SELECT user_id FROM orders)', 60_000],
    ['SELECT lower(name) FROM users', 120_000],
  ])('%s is cached for %d ms (the shortest TTL of its tables)', (sql, ttlMs) => {
    expect(verdict(sql)).toEqual({ cache: true, ttlMs });
  });

  it.each([
    ['SELECT * FROM users JOIN accounts ON true', 'table-not-listed'],
    ['SELECT * FROM other.items', 'table-not-listed'],
    ['SELECT 1', 'no-tables'],
    ['SELECT * FROM users FOR UPDATE', 'locking'],
    ['SELECT * FROM users WHERE id IN (SELECT user_id FROM orders FOR SHARE)', 'locking'],
    ['SELECT * INTO copy FROM users', 'select-into'],
    ['WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d', 'writes'],
    ['SELECT now(), * FROM users', 'volatile'],
    ['SELECT * FROM users WHERE created < CURRENT_TIMESTAMP', 'volatile'],
    ['SELECT nextval($1), * FROM users', 'volatile'],
    ['UPDATE users SET name = $1', 'not-select'],
    ['EXPLAIN SELECT * FROM users', 'not-select'],
    ['SHOW search_path', 'not-select'],
  ])('%s is not (%s)', (sql, reason) => {
    expect(verdict(sql)).toEqual({ cache: false, reason });
  });

  it('never caches inside a transaction block', () => {
    expect(verdict('SELECT * FROM users', { inTransaction: true })).toEqual({
      cache: false,
      reason: 'transaction',
    });
  });
});

describe('cache hints', () => {
  it('cache reads of any table, with the hint TTL or else the table or default one', () => {
    expect(verdict('/* polyproxy: cache ttl=30 */ SELECT * FROM accounts')).toEqual({
      cache: true,
      ttlMs: 30_000,
    });
    expect(verdict('/* polyproxy: cache */ SELECT * FROM accounts')).toEqual({ cache: true, ttlMs: 60_000 });
    expect(verdict('/* polyproxy: cache */ SELECT * FROM users')).toEqual({ cache: true, ttlMs: 120_000 });
    expect(verdict('-- polyproxy: cache ttl=250ms\nSELECT 1')).toEqual({ cache: true, ttlMs: 250 });
  });

  it('turn caching off for a listed table', () => {
    expect(verdict('/* polyproxy: cache off */ SELECT * FROM users')).toEqual({
      cache: false,
      reason: 'hint-off',
    });
    expect(verdict('/* polyproxy: nocache */ SELECT * FROM users')).toEqual({
      cache: false,
      reason: 'hint-off',
    });
  });

  it('never make a volatile or locking read cacheable', () => {
    expect(verdict('/* polyproxy: cache */ SELECT random()')).toEqual({ cache: false, reason: 'volatile' });
    expect(verdict('/* polyproxy: cache */ SELECT * FROM t FOR UPDATE')).toEqual({
      cache: false,
      reason: 'locking',
    });
  });

  it.each<[string | undefined, ReturnType<typeof parseCacheHint>]>([
    ['cache', { cache: true, ttlMs: undefined }],
    ['CACHE TTL=60', { cache: true, ttlMs: 60_000 }],
    ['cache, ttl=1m30s', { cache: true, ttlMs: 90_000 }],
    ['cache ttl=0', { cache: false }],
    ['cache off', { cache: false }],
    ['nocache', { cache: false }],
    ['cache ttl=soon', undefined],
    ['cache forever', undefined],
    ['caches', undefined],
    ['replica', undefined],
    [undefined, undefined],
  ])('reads %j', (hint, parsed) => {
    expect(parseCacheHint(hint)).toEqual(parsed);
  });
});
