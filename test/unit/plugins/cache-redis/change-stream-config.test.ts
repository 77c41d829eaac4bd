// plugins.cache.change_stream: off unless asked for, default names, and names PostgreSQL would refuse.
import { describe, expect, it } from 'vitest';
import { configErrorMap, formatIssues } from '../../../../src/config/issues.js';
import { cacheConfigSchema } from '../../../../src/plugins/builtin/cache-redis/config.js';

const redis = 'redis://127.0.0.1:6379/0';

describe('cache change_stream config', () => {
  it('is absent unless given, and fills its names when given', () => {
    expect(cacheConfigSchema.parse({ redis }).change_stream).toBeUndefined();
    expect(cacheConfigSchema.parse({ redis, change_stream: { enabled: true } }).change_stream).toEqual({
      enabled: true,
      slot: 'polyproxy_cache',
      publication: 'polyproxy_cache',
    });
  });

  it('names the key path of a slot name PostgreSQL would refuse, and of unknown keys', () => {
    const result = cacheConfigSchema.safeParse(
      { redis, change_stream: { enabled: true, slot: 'Bad-Slot', lag: 1 } },
      { reportInput: true, error: configErrorMap },
    );
    expect(result.success).toBe(false);
    const lines = formatIssues(
      result.error!.issues.map((issue) => ({ ...issue, path: ['plugins', 'cache', ...issue.path] })),
    ).join('\n');
    expect(lines).toContain('plugins.cache.change_stream.slot');
    expect(lines).toContain('lag');
  });
});
