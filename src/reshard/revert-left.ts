// REVERT in a proxy that holds no job for the database (restarted since the switch, its config naming the new
// shards): the origin on the new first primary names the old shards and map, the state on the old first
// primary says the reverse stream runs; the reverse stream resumes from its slots, and the cutover back runs
// as the switching proxy's would, coordinated on the old first primary.
import type { Database } from '../backend/database.js';
import type { DatabaseConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { cutOver, type CutoverResult } from './cutover.js';
import { CutoverPeers } from './instances.js';
import { primariesOf } from './logins.js';
import { readOrigin } from './origin.js';
import { instanceName, participantOf } from './participant.js';
import type { ReshardPlan } from './plan.js';
import { Reshard } from './reshard.js';
import { ReverseStream } from './reverse.js';
import { noSharding } from '../backend/cluster.js';
import { forgetLeft, recordLeft, StateStore } from './state.js';

/** The old shards' config and the forward plan, from the origin the new first primary keeps. */
async function originOf(db: Database): Promise<{ from: DatabaseConfig; forward: ReshardPlan }> {
  const target = primariesOf(db.config);
  const origin = await readOrigin(target[0]!, db.name);
  if (!origin || !db.config.sharding)
    throw new Error(`no switched reshard of "${db.name}" to revert: its shards keep no origin`);
  const from: DatabaseConfig = { ...db.config, shards: origin.shards, sharding: origin.sharding };
  const forward: ReshardPlan = {
    database: db.name,
    source: primariesOf(from),
    sourceDefaultShard: origin.sharding.default_shard ?? 0,
    target,
    targetSharding: db.config.sharding,
  };
  return { from, forward };
}

export async function revertLeftReshard(db: Database, log: Logger): Promise<CutoverResult> {
  const { from, forward } = await originOf(db);
  const store = new StateStore(forward.source[0]!, db.name);
  const state = await store.read();
  if (state?.phase !== 'reverse')
    throw new Error(`no switched reshard of "${db.name}" to revert (state ${state?.phase ?? 'none'})`);
  const reverse = new ReverseStream(forward, from.sharding ?? noSharding, log);
  await reverse.resume();
  const config = db.config.reshard;
  const peers = new CutoverPeers(
    forward.source[0]!,
    db.name,
    participantOf(db)?.instance ?? instanceName,
    config?.heartbeat_timeout ?? 10_000,
  );
  let recorded = false;
  let result: CutoverResult;
  try {
    result = await cutOver(db, reverse, from, {
      pauseTimeoutMs: config?.pause_timeout ?? 5000,
      log,
      peers,
      // As at the switch: recorded before statements resume on the old shards.
      beforeSwitch: async (run) => {
        await store.write('reverted', {}, run);
        recorded = true;
        await recordLeft(forward.target[0]!, db.name);
      },
    });
  } catch (error) {
    if (recorded) {
      await store.write('reverse').catch(() => {});
      await forgetLeft(forward.target[0]!, db.name).catch(() => {});
    }
    await reverse.stop();
    throw error;
  }
  const { pausedMs, checks, id, live, tail } = result;
  await store.write('reverted', {
    revertPausedMs: pausedMs,
    revertVerification: checks,
    revertLive: live,
    revertTail: tail,
    cutover: id,
  });
  await reverse.drop();
  await new Reshard(forward, log).dropOldSide();
  log.info('reshard reverted from a restarted proxy: the old shards serve', { database: db.name, pausedMs });
  return result;
}
