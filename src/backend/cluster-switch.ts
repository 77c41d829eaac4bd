// A reshard's switch in a running proxy: a database's shard list and shard map replaced in place (one shard to
// several and back too), so the sessions already connected route their next statements to the new shards
// without reconnecting (one-shard sessions move to the engine at their next transaction, see forward-rebind).
import type { DatabaseConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { ShardMap } from '../router/sharding/shard-map.js';
import type { Database } from './database.js';
import { Shard } from './shard.js';
import { forgetCoordinator } from './coordinator/coordinator.js';
import { WritePositions } from './write-positions.js';
import { noSharding, type MetaSnapshot } from './cluster.js';
import { ShardChannel } from './shard-channel.js';
import { ensureDecisionLog } from './two-phase.js';

/** The fields the switch replaces: read-only to everything else, which reads them afresh per statement. */
type Switchable = { -readonly [K in 'config' | 'shard']: Database[K] };
type SwitchableCluster = { map: ShardMap; writePositions: WritePositions[] };

/** The new shards, started (health checks running) but not serving yet. */
export interface PreparedShards {
  readonly config: DatabaseConfig;
  readonly shards: Shard[];
  /** The catalog facts read from the new shards by warmShards(), put in place at the switch. */
  meta?: MetaSnapshot | null;
}

export async function prepareShards(
  db: Database,
  config: DatabaseConfig,
  log: Logger,
): Promise<PreparedShards> {
  if (!config.sharding && config.shards.length > 1)
    throw new Error(`database "${db.name}" needs a sharding section to switch in place to several shards`);
  const dbLog = log.child({ database: db.name });
  const shards = config.shards.map((_, i) => new Shard(i, config, dbLog));
  await Promise.all(shards.map((s) => s.start()));
  return { config, shards };
}

/**
 * Before the pause, the reads the first statements on the new shards would otherwise make while clients wait:
 * the catalog facts of the relations known now (from the new default shard) and, for several shards, the
 * two-phase decision log on the new shard 0. Failing here only leaves that work to the first statements.
 */
export async function warmShards(db: Database, next: PreparedShards, log: Logger): Promise<void> {
  const map = new ShardMap(next.config.sharding ?? noSharding, next.shards.length);
  const sharded = next.config.sharding !== undefined && next.shards.length > 1;
  const work = async (shard: number, f: (channel: ShardChannel) => Promise<void>) => {
    const pool = next.shards[shard]!.primary()?.pool;
    if (!pool) return;
    const channel = new ShardChannel(shard, await pool.acquire(), pool);
    try {
      await f(channel);
    } finally {
      channel.release();
    }
  };
  await Promise.all([
    work(map.defaultShard, async (c) => {
      next.meta = await db.cluster.readMetaAhead(map, c);
    }),
    sharded ? work(0, ensureDecisionLog) : null,
  ]).catch((error: Error) => log.warn('reshard warm-up failed', { database: db.name, err: error.message }));
}

/**
 * Puts the new shards and map in place at once (no await between the assignments) and returns the old
 * shards for the caller to close. Run while the database's reshard gate is closed and no connection of the
 * old shards is in use.
 */
export function switchShards(db: Database, next: PreparedShards): Shard[] {
  const cluster = db.cluster;
  const old = db.shards.splice(0, db.shards.length, ...next.shards);
  const mutable = db as unknown as Switchable;
  mutable.config = next.config;
  mutable.shard = next.shards[0]!;
  const c = cluster as unknown as SwitchableCluster;
  c.map = new ShardMap(next.config.sharding ?? noSharding, next.shards.length);
  c.writePositions = next.shards.map((shard) => new WritePositions(() => shard.replayedEverywhere()));
  cluster.adoptMeta(next.meta ?? null);
  // The coordinator's foreign tables point at the old shards: a stale mirror would answer from them.
  forgetCoordinator(cluster);
  // Several shards need the in-doubt resolver (one shard from now on does not): no transaction is in flight.
  if (cluster.sharded) void cluster.start();
  else cluster.stop();
  return old;
}
