// Cache invalidation from each primary's change stream: a write that bypassed the proxy (or any write)
// bumps its tables' versions once it committed, whichever instance consumes the stream.
import type { Logger } from '../../../logger.js';
import { ChangeStream } from '../../../streams/change-stream.js';
import type { PluginDatabase, PluginMetrics } from '../../api.js';
import type { CacheConfig } from './config.js';
import type { QueryCache } from './query-cache.js';

/** One PostgreSQL database on one server, and the proxy databases whose caches it feeds. */
interface Source {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly login: PluginDatabase;
  readonly feeds: Set<string>;
}

const slotSafe = (name: string) => name.toLowerCase().replace(/[^a-z0-9_]/g, '_');

/**
 * One stream per server database. Slot names are per server, so where one server holds several of the
 * databases, each slot gets `_<database>` appended.
 */
function sources(databases: readonly PluginDatabase[]): Source[] {
  const byKey = new Map<string, Source>();
  for (const db of databases) {
    for (const primary of db.primaries) {
      const key = `${primary.host}:${primary.port}/${primary.database}`;
      let source = byKey.get(key);
      if (!source) {
        source = { ...primary, login: db, feeds: new Set() };
        byKey.set(key, source);
      }
      source.feeds.add(db.name);
    }
  }
  return [...byKey.values()];
}

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
  const all = sources(databases);
  return all.map((source) => {
    const shared = all.filter((s) => s.host === source.host && s.port === source.port).length > 1;
    const labels = { server: `${source.host}:${source.port}`, database: source.database };
    return new ChangeStream({
      server: {
        host: source.host,
        port: source.port,
        database: source.database,
        user: source.login.user,
        password: source.login.password,
        connectTimeoutMs: source.login.connectTimeoutMs,
      },
      slot: shared ? `${config.slot}_${slotSafe(source.database)}`.slice(0, 63) : config.slot,
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
