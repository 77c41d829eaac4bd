// Schema of `databases.<db>.reshard`: the named shard lists a database may be resharded to, and the cutover's bounds.
import { z } from 'zod';
import { duration } from './fields.js';

/** The shard list (and, when the map changes or the database is not sharded yet, the sharding) of a target. */
export function reshardSchemaOf<S extends z.ZodType, M extends z.ZodType>(shard: S, sharding: M) {
  const target = z.strictObject({
    shards: z.array(shard).min(2),
    sharding: sharding.optional().meta({ description: "the new map; default: the database's own sharding" }),
  });
  return z.strictObject({
    targets: z.record(z.string(), target).default({}).meta({
      description:
        'name -> { shards, sharding }: what `RESHARD <db> TO <name>` on the admin console moves the database to',
    }),
    pause_timeout: duration('5s').meta({
      description:
        "how long a cutover may hold the database's new statements while transactions finish and the stream catches up; past it they get 55P03 and the cutover is abandoned",
    }),
    heartbeat_timeout: duration('10s').meta({
      description:
        'a proxy instance whose heartbeat on the first old primary is older than this does not count as taking part in a cutover',
    }),
  });
}
