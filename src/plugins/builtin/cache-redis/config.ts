// The `plugins.cache` config slice: where Redis is, which reads are cached and for how long, and the limits.
import { z } from 'zod';
import { duration, hostPort } from '../../../config/fields.js';

const redisUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a URL such as redis://host:6379/0 or rediss://host:6380',
    });
    return;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    ctx.addIssue({ code: 'custom', message: `expected redis:// or rediss://, got ${url.protocol}//` });
  }
});

/** A positive duration: a zero TTL or timeout would turn the cache into a slower way of not caching. */
const positiveDuration = (defaultValue: string) =>
  duration(defaultValue).refine((ms) => ms > 0, { error: 'expected a duration above 0' });

/**
 * Exactly one of `url` (a standalone server), `sentinels` + `name` (Sentinel finds the master) or `cluster`
 * (seed nodes of a Redis Cluster). A bare URL string is short for `{ url }`.
 */
const redisSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { url: value } : value),
  z
    .strictObject({
      url: redisUrl.optional().meta({ description: 'redis://[user:password@]host:port/db or rediss://...' }),
      sentinels: z.array(hostPort).min(1).optional().meta({ description: 'Sentinel addresses, host:port' }),
      name: z.string().min(1).optional().meta({ description: 'the master group name Sentinel monitors' }),
      cluster: z
        .array(hostPort)
        .min(1)
        .optional()
        .meta({ description: 'Redis Cluster seed nodes, host:port' }),
      username: z.string().optional(),
      password: z.string().optional(),
      sentinel_password: z.string().optional().meta({ description: 'password of the Sentinels themselves' }),
      db: z.number().int().min(0).optional().meta({ description: 'database number (not with cluster)' }),
      tls: z
        .boolean()
        .default(false)
        .meta({ description: 'TLS to Redis and the Sentinels (with url, write rediss:// instead)' }),
    })
    .superRefine((redis, ctx) => {
      const given = (['url', 'sentinels', 'cluster'] as const).filter((key) => redis[key] !== undefined);
      if (given.length !== 1) {
        const got = given.length === 0 ? 'none' : given.join(' and ');
        ctx.addIssue({
          code: 'custom',
          message: `give exactly one of url, sentinels or cluster (got ${got})`,
        });
      }
      if (redis.sentinels && !redis.name) {
        ctx.addIssue({
          code: 'custom',
          path: ['name'],
          message: 'required with sentinels (the master name)',
        });
      }
      if (redis.name && !redis.sentinels) {
        ctx.addIssue({ code: 'custom', path: ['name'], message: 'only means something with sentinels' });
      }
      if (redis.cluster && redis.db !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['db'], message: 'Redis Cluster has only database 0' });
      }
      if (redis.url && redis.tls) {
        ctx.addIssue({ code: 'custom', path: ['tls'], message: 'with url, write rediss:// for TLS' });
      }
    }),
);

/**
 * Tables whose reads are cached: a list (each cached for default_ttl) or a mapping table -> TTL (`~` for
 * default_ttl). `t` matches the table in any schema; `s.t` matches `s.t` and unqualified `t`.
 */
const tablesSchema = z
  .union([z.array(z.string().min(1)), z.record(z.string().min(1), positiveDuration('60s').nullable())], {
    error: 'expected a list of tables or a mapping table -> TTL',
  })
  .prefault([]);

const slotName = z
  .string()
  .regex(/^[a-z0-9_]{1,63}$/, { error: 'expected lower-case letters, digits and underscores (at most 63)' });

/** Invalidation from each primary's logical replication stream, for writes that bypass the proxy. */
const changeStreamSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    slot: slotName.default('polyproxy_cache').meta({ description: 'replication slot on each primary' }),
    publication: slotName
      .default('polyproxy_cache')
      .meta({ description: 'publication the slot reads (created FOR ALL TABLES when missing)' }),
  })
  .optional();

export const cacheConfigSchema = z.strictObject({
  redis: redisSchema,
  tables: tablesSchema,
  default_ttl: positiveDuration('60s'),
  /** Larger results are not stored: Redis memory and the time to ship an entry both grow with it. */
  max_entry_bytes: z.number().int().positive().prefault(1_048_576),
  max_rows: z.number().int().positive().prefault(10_000),
  /** How long a statement or a commit waits for Redis before going on without the cache. */
  timeout: positiveDuration('50ms'),
  /** How long one connection attempt may take, and how long start-up waits for Redis before going on without. */
  connect_timeout: positiveDuration('2s'),
  key_prefix: z.string().prefault('polyproxy:'),
  change_stream: changeStreamSchema,
});

export type CacheConfigInput = z.input<typeof cacheConfigSchema>;
export type CacheConfig = z.output<typeof cacheConfigSchema>;
export type RedisConfig = CacheConfig['redis'];
