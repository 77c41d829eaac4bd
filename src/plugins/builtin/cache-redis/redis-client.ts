// An ioredis client for a standalone server, a Sentinel-managed master or a Redis Cluster, set up to fail fast.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { parseHostPort } from '../../../config/host-port.js';
import type { RedisConfig } from './config.js';

export type RedisClient = Redis | Cluster;

/** How long to wait between reconnect attempts: soon at first, at most a second, never giving up. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, 1000);

/**
 * Commands are never queued while Redis is unreachable and a command in flight when the connection drops
 * fails at once: a cache that waits for Redis is worse than none, so every failure surfaces immediately and
 * the statement goes on without the cache. The client does not connect until connect() is called.
 */
export function createRedisClient(config: RedisConfig, connectTimeoutMs: number): RedisClient {
  const common: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: connectTimeoutMs,
    username: config.username,
    password: config.password,
    tls: config.tls ? {} : undefined,
  };
  if (config.cluster) {
    return new Cluster(config.cluster.map(parseHostPort), {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: reconnectDelay,
      redisOptions: { ...common, lazyConnect: undefined },
    });
  }
  if (config.sentinels) {
    return new Redis({
      ...common,
      retryStrategy: reconnectDelay,
      sentinels: config.sentinels.map(parseHostPort),
      name: config.name,
      sentinelPassword: config.sentinel_password,
      // TLS to the master Sentinel names, and to the Sentinels themselves.
      enableTLSForSentinelMode: config.tls,
      sentinelTLS: config.tls ? {} : undefined,
      db: config.db,
    });
  }
  // What the URL says (credentials, database, rediss://) wins; the separate keys fill in what it leaves out.
  return new Redis(config.url!, { ...common, retryStrategy: reconnectDelay, db: config.db });
}
