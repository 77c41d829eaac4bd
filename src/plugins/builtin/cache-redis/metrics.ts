// The cache's metrics (exported as polyproxy_plugin_cache_*) and its rate-limited warnings about Redis.
import type { Logger } from '../../../logger.js';
import type { CounterLike, PluginMetrics } from '../../api.js';

/** What the cache asked Redis for: `connect` covers the client's own connection attempts. */
export type RedisOperation = 'lookup' | 'store' | 'invalidate' | 'generation' | 'connect';
export type FailureKind = 'timeout' | 'error';

export interface CacheMetrics {
  readonly hits: CounterLike;
  readonly misses: CounterLike;
  readonly stores: CounterLike;
  readonly skipped: CounterLike;
  readonly servedBytes: CounterLike;
  readonly redisFailures: CounterLike;
  readonly invalidations: CounterLike;
}

export function createCacheMetrics(metrics: PluginMetrics): CacheMetrics {
  return {
    hits: metrics.counter('hits_total', 'Reads answered from the cache', ['database']),
    misses: metrics.counter('misses_total', 'Cacheable reads that found no valid entry', ['database']),
    stores: metrics.counter('stores_total', 'Results stored in the cache', ['database']),
    skipped: metrics.counter(
      'skipped_total',
      'Results not stored: too_big, too_many_rows, or changed (a write committed while the query ran)',
      ['database', 'reason'],
    ),
    servedBytes: metrics.counter('served_bytes_total', 'Bytes of results answered from the cache', [
      'database',
    ]),
    redisFailures: metrics.counter(
      'redis_failures_total',
      'Redis operations that failed or timed out; the statement went on without the cache',
      ['operation', 'kind'],
    ),
    invalidations: metrics.counter(
      'invalidations_total',
      'Counters bumped by committed writes: one per table, or the generation for a write to anything',
      ['database'],
    ),
  };
}

/**
 * One warning per interval however often Redis fails, with the number of failures in between; a line when
 * it answers again. A Redis outage must not flood the log with one line per statement.
 */
export class RedisTrouble {
  private lastWarning = -Infinity;
  private suppressed = 0;
  private failing = false;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  failed(operation: RedisOperation, kind: FailureKind, error: unknown): void {
    this.failing = true;
    const now = this.now();
    if (now - this.lastWarning < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.log.warn('redis unavailable, going on without the cache', {
      operation,
      kind,
      error: error instanceof Error ? error.message : String(error),
      ...(this.suppressed > 0 ? { suppressed: this.suppressed } : {}),
    });
    this.lastWarning = now;
    this.suppressed = 0;
  }

  succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    this.log.info('redis answers again, caching resumes');
  }
}
