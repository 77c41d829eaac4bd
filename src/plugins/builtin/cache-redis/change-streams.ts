// Cache invalidation from each primary's change stream: a write that bypassed the proxy (or any write)
// bumps its tables' versions once it committed, whichever instance consumes the stream.
import type { Logger } from '../../../logger.js';
import { ChangeStream } from '../../../streams/change-stream.js';
import { streamSources } from '../../../streams/stream-sources.js';
import type { PluginDatabase, PluginMetrics } from '../../api.js';
import type { CacheConfig } from './config.js';
import type { QueryCache } from './query-cache.js';

export function cacheChangeStreams(
  config: NonNullable<CacheConfig['change_stream']>,
  databases: readonly PluginDatabase[],
  cache: QueryCache,
  log: Logger,
  metrics: PluginMetrics,
): ChangeStream[] {
  const consuming = metrics.gauge(
    'stream_consuming',
    '1 while this instance consumes the change stream of the server database (one instance at a time)',
    ['server', 'database'],
  );
  const transactions = metrics.counter(
    'stream_invalidations_total',
    'Tables invalidated from a change stream (batched commits count each table once)',
    ['server', 'database'],
  );
  return streamSources(databases, config.slot).map((source) => {
    const labels = {
      server: `${source.server.host}:${source.server.port}`,
      database: source.server.database,
    };
    return new ChangeStream({
      server: source.server,
      slot: source.slot,
      publication: config.publication,
      log,
      consumer: 'cache',
      onConsuming: (on) => consuming.set(labels, on ? 1 : 0),
      apply: async (tables) => {
        await Promise.all([...source.feeds].map((database) => cache.invalidate({ database, tables })));
        transactions.inc(labels, tables.length);
      },
    });
  });
}
