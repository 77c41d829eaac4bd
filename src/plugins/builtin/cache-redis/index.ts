// The built-in `cache` plugin: query results cached in Redis, shared and kept correct across proxy instances.
import type { Logger } from '../../../logger.js';
import type { PolyproxyPlugin } from '../../api.js';
import { cacheChangeStreams } from './change-streams.js';
import { cacheConfigSchema, type CacheConfig } from './config.js';
import { withDeadline } from './deadline.js';
import { createCacheMetrics, RedisTrouble } from './metrics.js';
import { QueryCache } from './query-cache.js';
import { createRedisClient, type RedisClient } from './redis-client.js';
import { VersionStore } from './version-store.js';

/** Waits up to connect_timeout for Redis at start; without it the proxy starts anyway and caches once it comes. */
async function connect(client: RedisClient, waitMs: number, log: Logger): Promise<void> {
  try {
    await withDeadline(client.connect(), waitMs);
  } catch (error) {
    log.warn('redis not reachable at start; going on without the cache until it is', {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

async function close(client: RedisClient, waitMs: number): Promise<void> {
  await withDeadline(client.quit(), waitMs).catch(() => {});
  client.disconnect();
}

const cachePlugin: PolyproxyPlugin<CacheConfig> = {
  name: 'cache',
  polyproxy: '^0.1',
  configSchema: cacheConfigSchema,
  register(ctx) {
    const { config } = ctx;
    const client = createRedisClient(config.redis, config.connect_timeout);
    const trouble = new RedisTrouble(ctx.log);
    const cache = new QueryCache({
      config,
      versions: new VersionStore(client),
      metrics: createCacheMetrics(ctx.metrics),
      trouble,
    });
    client.on('error', (error: unknown) => trouble.failed('connect', 'error', error));
    client.on('ready', () => cache.redisReady());
    ctx.beforeStatement((stmt) => cache.beforeStatement(stmt));
    ctx.onCommit((write) => cache.onCommit(write));
    const streams = config.change_stream?.enabled
      ? cacheChangeStreams(config.change_stream, ctx.databases, cache, ctx.log, ctx.metrics)
      : [];
    ctx.onStart(async () => {
      await connect(client, config.connect_timeout, ctx.log);
      for (const stream of streams) stream.start();
    });
    ctx.onStop(async () => {
      await Promise.all(streams.map((stream) => stream.stop()));
      await cache.drain();
      await close(client, config.connect_timeout);
    });
  },
};

export default cachePlugin;
