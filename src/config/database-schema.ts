// Schema of one entry under `databases`: backend login, pool, shards, routing and sharding.
import { z } from 'zod';
import { duration, hostPort } from './fields.js';
import { reshardSchemaOf } from './reshard-schema.js';

export const backendSchema = z.strictObject({
  user: z.string().min(1),
  password: z.string().default(''),
  database: z.string().min(1),
  tls: z
    .strictObject({
      mode: z.enum(['disable', 'prefer', 'require', 'verify-full']).default('disable'),
      ca: z.string().min(1).optional().meta({ description: 'CA certificate file (PEM)' }),
    })
    .prefault({}),
  connect_timeout: duration('5s'),
});

export const poolSchema = z
  .strictObject({
    mode: z.enum(['transaction', 'session']).default('transaction'),
    size: z.int().min(1).max(10_000).default(10),
    min_idle: z.int().min(0).default(0),
    acquire_timeout: duration('10s'),
    idle_timeout: duration('10m'),
    lifetime: duration('1h'),
    health_check_interval: duration('30s'),
    reset_query: z.string().default('DISCARD ALL'),
    query_timeout: duration(0).meta({
      description:
        'a statement the server has not finished in this time is cancelled (57014); a server that does not answer the cancel either is disconnected (08006); 0 = off',
    }),
    idle_transaction_timeout: duration(0).meta({
      description:
        'a client idle this long inside a transaction block is disconnected (25P03) and its transaction rolled back, freeing its server connection; 0 = off',
    }),
  })
  .superRefine((pool, ctx) => {
    if (pool.min_idle > pool.size) {
      const message = `expected at most pool.size (${pool.size}), got ${pool.min_idle}`;
      ctx.addIssue({ code: 'custom', path: ['min_idle'], message });
    }
  });

export const shardSchema = z.strictObject({
  primary: hostPort,
  replicas: z.array(hostPort).default([]),
  role: z.literal('auto').optional(),
  database: z.string().min(1).optional().meta({
    description:
      "this shard's database on its servers (default backend.database): several shards may share a server as separate databases",
  }),
});

export const routingSchema = z.strictObject({
  read_your_writes: z
    .union([z.boolean(), z.enum(['connection', 'user', 'application', 'off'])])
    .default('user')
    .transform((v) => (v === true ? 'user' : v === false ? 'off' : v))
    .meta({
      description:
        "who reads whose writes from replicas only once they replayed them: 'user' (every connection of the client's user, so an application's connection pool sees its own writes), 'application' (user and application_name), 'connection', or 'off'; true means 'user'",
    }),
  read_your_writes_wait: duration(0),
  read_your_writes_redis: z.string().min(1).optional().meta({
    description:
      "a Redis URL (e.g. the cache plugin's) through which proxy instances share read-your-writes positions of scopes user and application",
  }),
  max_replica_lag: duration('5s'),
  primary_reads: z.boolean().default(false),
  load_balance: z.enum(['round_robin', 'least_connections', 'random']).default('round_robin'),
  primary_functions: z.array(z.string().min(1)).default([]),
  replica_weights: z
    .record(z.string(), z.number().positive())
    .default({})
    .meta({ description: 'host:port -> relative share of reads (default 1)' }),
  check_interval: duration('250ms').meta({
    description: 'how often each server is checked for health, role and replay position',
  }),
  check_timeout: duration('1s').meta({ description: 'a server that does not answer a check in time is out' }),
});

const shardKeyValue = z.union([z.int(), z.string()]);

/** A sharded table: its key column and, when not the database's default, how keys map to shards. */
export const shardedTableSchema = z.strictObject({
  column: z.string().min(1),
  algorithm: z.enum(['hash', 'range', 'list']).optional(),
  ranges: z
    .array(
      z.strictObject({
        shard: z.int().min(0),
        from: shardKeyValue.optional().meta({ description: 'inclusive lower bound; none means unbounded' }),
        to: shardKeyValue.optional().meta({ description: 'exclusive upper bound; none means unbounded' }),
      }),
    )
    .optional()
    .meta({ description: 'algorithm range: key ranges, each on one shard' }),
  lists: z
    .array(z.strictObject({ shard: z.int().min(0), values: z.array(shardKeyValue).min(1) }))
    .optional()
    .meta({ description: 'algorithm list: key values, each list on one shard' }),
});

export const shardingSchema = z.strictObject({
  tables: z
    .record(z.string(), z.union([z.string().min(1), shardedTableSchema]))
    .meta({ description: 'table -> shard key column, or { column, algorithm, ranges | lists }' }),
  reference: z.array(z.string().min(1)).default([]).meta({ description: 'tables copied to every shard' }),
  default_shard: z.int().min(0).default(0),
  algorithm: z.enum(['hash', 'range', 'list']).default('hash'),
  deadlock_check_interval: duration('1s').meta({
    description:
      'how often lock waits of transactions over several shards are checked for deadlocks no shard sees (0: never)',
  }),
  coordinator: z
    .union([
      z.literal('off'),
      z.strictObject({
        server: hostPort.optional().meta({ description: "host:port (default: the first shard's primary)" }),
        database: z
          .string()
          .min(1)
          .optional()
          .meta({ description: 'default: <backend.database>_coordinator' }),
      }),
    ])
    .default({})
    .meta({
      description:
        "a PostgreSQL database (with postgres_fdw) that answers reads the proxy's own plans cannot, over foreign tables on the shards; 'off' refuses them with 0A000",
    }),
  lock_wait_limit: duration(0).meta({
    description:
      'a transaction over several shards whose statement waits for a lock longer than this is rolled back with 40P01 (0: no limit)',
  }),
});

export const databaseSchema = z
  .strictObject({
    backend: backendSchema,
    pool: poolSchema.prefault({}),
    shards: z.array(shardSchema).min(1),
    routing: routingSchema.prefault({}),
    sharding: shardingSchema.optional(),
    reshard: reshardSchemaOf(shardSchema, shardingSchema).optional(),
  })
  .superRefine((db, ctx) => {
    const sharding = db.sharding;
    if (!sharding) return;
    const shards = db.shards.length;
    if (shards < 2) {
      const message = `sharding needs more than one shard (add shards or remove sharding), got ${shards}`;
      ctx.addIssue({ code: 'custom', path: ['sharding'], message });
    } else if (sharding.default_shard >= shards) {
      const message = `expected a shard index 0..${shards - 1}, got ${sharding.default_shard}`;
      ctx.addIssue({ code: 'custom', path: ['sharding', 'default_shard'], message });
    }
    for (const [table, spec] of Object.entries(sharding.tables)) {
      if (typeof spec === 'string') continue;
      const algorithm = spec.algorithm ?? sharding.algorithm;
      const places = algorithm === 'range' ? spec.ranges : algorithm === 'list' ? spec.lists : [];
      if (!places) {
        const message = `algorithm ${algorithm} needs "${algorithm === 'range' ? 'ranges' : 'lists'}"`;
        ctx.addIssue({ code: 'custom', path: ['sharding', 'tables', table], message });
        continue;
      }
      places.forEach((place, i) => {
        if (place.shard < shards) return;
        const key = algorithm === 'range' ? 'ranges' : 'lists';
        const message = `expected a shard index 0..${shards - 1}, got ${place.shard}`;
        ctx.addIssue({ code: 'custom', path: ['sharding', 'tables', table, key, i, 'shard'], message });
      });
    }
    sharding.reference.forEach((table, i) => {
      if (!Object.hasOwn(sharding.tables, table)) return;
      const message = `"${table}" is also in sharding.tables; a table is either sharded or a reference table`;
      ctx.addIssue({ code: 'custom', path: ['sharding', 'reference', i], message });
    });
  });
