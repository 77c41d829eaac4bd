// The plugins.cache config: defaults, the three ways to reach Redis, and errors that name the key path.
import { describe, expect, it } from 'vitest';
import { configErrorMap, formatIssues } from '../../../../src/config/issues.js';
import { cacheConfigSchema } from '../../../../src/plugins/builtin/cache-redis/config.js';

/** The lines a user would read, with paths under plugins.cache as the host reports them. */
function errorsOf(raw: unknown): string[] {
  const result = cacheConfigSchema.safeParse(raw, { reportInput: true, error: configErrorMap });
  if (result.success) throw new Error('expected the config to be rejected');
  return formatIssues(
    result.error.issues.map((issue) => ({ ...issue, path: ['plugins', 'cache', ...issue.path] })),
  );
}

describe('cache config', () => {
  it('fills defaults and normalizes durations to milliseconds', () => {
    const config = cacheConfigSchema.parse({ redis: 'redis://127.0.0.1:6379/2' });
    expect(config).toEqual({
      redis: { url: 'redis://127.0.0.1:6379/2', tls: false },
      tables: [],
      default_ttl: 60_000,
      max_entry_bytes: 1_048_576,
      max_rows: 10_000,
      timeout: 50,
      connect_timeout: 2_000,
      key_prefix: 'polyproxy:',
    });
  });

  it('takes tables as a list or as a mapping to TTLs', () => {
    expect(cacheConfigSchema.parse({ redis: 'redis://h:1', tables: ['users'] }).tables).toEqual(['users']);
    const tables = cacheConfigSchema.parse({
      redis: 'redis://h:1',
      tables: { users: '5m', orders: null },
    }).tables;
    expect(tables).toEqual({ users: 300_000, orders: null });
  });

  it('accepts Sentinel and Cluster', () => {
    const sentinel = { sentinels: ['10.0.0.1:26379', 'sentinel-b:26379'], name: 'mymaster', db: 1 };
    expect(cacheConfigSchema.parse({ redis: sentinel }).redis).toMatchObject(sentinel);
    const cluster = { cluster: ['127.0.0.1:7000', '127.0.0.1:7001'], password: 'pw' };
    expect(cacheConfigSchema.parse({ redis: cluster }).redis).toMatchObject(cluster);
  });

  it('names the key path of each problem', () => {
    expect(errorsOf({})).toEqual(['plugins.cache.redis: required key is missing (expected mapping)']);
    expect(errorsOf({ redis: 'http://h:1' })).toEqual([
      'plugins.cache.redis.url: expected redis:// or rediss://, got http://',
    ]);
    expect(errorsOf({ redis: { sentinels: ['a:1'] } })).toEqual([
      'plugins.cache.redis.name: required with sentinels (the master name)',
    ]);
    expect(errorsOf({ redis: { url: 'redis://h:1', cluster: ['a:1'] } })).toEqual([
      'plugins.cache.redis: give exactly one of url, sentinels or cluster (got url and cluster)',
    ]);
    expect(errorsOf({ redis: { cluster: ['nope'] } })).toEqual([
      'plugins.cache.redis.cluster[0]: expected host:port, got "nope"',
    ]);
    expect(errorsOf({ redis: 'redis://h:1', tables: { users: '0s' } })).toEqual([
      'plugins.cache.tables.users: expected a duration above 0',
    ]);
    expect(errorsOf({ redis: 'redis://h:1', timeout: '5 s', max_rows: 0 })).toEqual([
      'plugins.cache.max_rows: expected a number > 0, got 0',
      'plugins.cache.timeout: expected a duration such as 250ms, 5s, 2m, 1h or a number of milliseconds, got "5 s"',
    ]);
    expect(errorsOf({ redis: 'redis://h:1', tables: 'users' })).toEqual([
      'plugins.cache.tables: expected a list of tables or a mapping table -> TTL, got "users"',
    ]);
  });

  it('rejects unknown keys', () => {
    const result = cacheConfigSchema.safeParse({ redis: 'redis://h:1', ttl: '5s' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['ttl'], path: [] });
  });
});
