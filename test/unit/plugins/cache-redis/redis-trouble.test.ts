// An outage yields one warning per interval, with the count of failures it stood for.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../src/logger.js';
import { RedisTrouble } from '../../../../src/plugins/builtin/cache-redis/metrics.js';

describe('redis trouble log', () => {
  it('rate-limits warnings and says when Redis is back', () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({
      level: 'info',
      format: 'json',
      write: (line) => lines.push(JSON.parse(line)),
    });
    let now = 0;
    const trouble = new RedisTrouble(log, 10_000, () => now);
    for (let i = 0; i < 100; i++) trouble.failed('lookup', 'timeout', new Error('slow'));
    now = 10_000;
    trouble.failed('invalidate', 'error', new Error('refused'));
    trouble.succeeded();
    trouble.succeeded();
    expect(
      lines.map(({ msg, operation, kind, suppressed }) => ({ msg, operation, kind, suppressed })),
    ).toEqual([
      {
        msg: 'redis unavailable, going on without the cache',
        operation: 'lookup',
        kind: 'timeout',
        suppressed: undefined,
      },
      {
        msg: 'redis unavailable, going on without the cache',
        operation: 'invalidate',
        kind: 'error',
        suppressed: 99,
      },
      {
        msg: 'redis answers again, caching resumes',
        operation: undefined,
        kind: undefined,
        suppressed: undefined,
      },
    ]);
  });
});
