// CANCEL in a proxy that holds no job for the database (it was killed or restarted since the reshard started):
// the state on the first old primary says a reshard was under way, so its slots, publications and marker
// tables go from the old primaries, and the reverse stream's publications from every configured target.
import type { Database } from '../backend/database.js';
import { shardingSchema } from '../config/database-schema.js';
import type { Logger } from '../logger.js';
import { primariesOf } from './logins.js';
import { Reshard } from './reshard.js';
import { dropLeftReverse } from './reverse.js';
import { endedPhases, StateStore } from './state.js';

/** Cancels the reshard the state records; false when none is under way (none started, or it ended). */
export async function cancelLeftReshard(db: Database, log: Logger): Promise<boolean> {
  const source = primariesOf(db.config);
  const state = await new StateStore(source[0]!, db.name).read();
  if (!state || endedPhases.includes(state.phase)) return false;
  // Only the old side is touched by a cancel: the target and its map are not needed.
  const plan = {
    database: db.name,
    source,
    sourceDefaultShard: db.config.sharding?.default_shard ?? 0,
    target: [],
    targetSharding: shardingSchema.parse({ tables: {} }),
  };
  await new Reshard(plan, log).cancel();
  // A kill during the cutover leaves the reverse publications made before it on the new shards.
  for (const target of Object.values(db.config.reshard?.targets ?? {}))
    await dropLeftReverse(db.name, primariesOf({ ...db.config, shards: target.shards }));
  return true;
}
