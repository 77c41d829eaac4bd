// A database clients connect to: its config, its shards (servers) and their pools.
import type { DatabaseConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { PluginHost } from '../plugins/host.js';
import type { StatementMetrics } from '../metrics/statement-metrics.js';
import { Cluster } from './cluster.js';
import { closeCoordinator } from './coordinator/coordinator.js';
import { Shard } from './shard.js';
import type { Pool } from './pool.js';
import { SharedStatements } from './shared-statements.js';
import { WritePositions } from './write-positions.js';
import { SharedWritePositions } from './shared-write-positions.js';

export class Database {
  /** Shard 0: the only shard of an unsharded database. */
  readonly shard: Shard;
  /** Every shard in config order (sharded databases have more than one). */
  readonly shards: Shard[];
  /** Its shards as one (shard map, 2PC resolver); `cluster.sharded` tells a sharded database from one shard. */
  readonly cluster: Cluster;
  readonly primaryFunctions: ReadonlySet<string>;
  /** The proxy's plugins, set by the composition root; null when none is enabled. */
  plugins: PluginHost | null = null;
  /** Statement counts, latency and errors; set by the composition root. */
  statementMetrics: StatementMetrics | null = null;
  /** What the server connections share about the statements prepared for clients. */
  readonly statements = new SharedStatements();
  /** Read-your-writes positions of scopes wider than one connection (routing.read_your_writes: user, application). */
  readonly writePositions: WritePositions;
  /** Shares writePositions with other proxy instances (routing.read_your_writes_redis), when configured. */
  readonly sharedPositions: SharedWritePositions | null = null;

  constructor(
    readonly name: string,
    readonly config: DatabaseConfig,
    log: Logger,
  ) {
    const dbLog = log.child({ database: name });
    this.shards = config.shards.map((_, i) => new Shard(i, config, dbLog));
    this.shard = this.shards[0];
    this.writePositions = new WritePositions(() => this.shard.replayedEverywhere());
    const redis = config.routing.read_your_writes_redis;
    if (redis && config.routing.read_your_writes !== 'off') {
      const shared = new SharedWritePositions(redis, name, this.writePositions, dbLog);
      this.writePositions.onLearnt = (key, lsn) => shared.publish(key, lsn);
      this.sharedPositions = shared;
    }
    this.cluster = new Cluster(this, dbLog);
    this.primaryFunctions = new Set(config.routing.primary_functions.map((f) => f.toLowerCase()));
  }

  get mode(): 'transaction' | 'session' {
    return this.config.pool.mode;
  }

  async start(): Promise<void> {
    await Promise.all([...this.shards.map((s) => s.start()), this.sharedPositions?.start()]);
    void this.cluster.start();
  }

  pools(): Pool[] {
    return this.shards.flatMap((s) => s.hosts.map((h) => h.pool));
  }

  /** Server parameters for a client's login, from the primary (or any server that answers). */
  async ensureParams(): Promise<Map<string, string>> {
    const hosts = [...this.shard.hosts].sort(
      (a, b) => Number(b === this.shard.primary()) - Number(a === this.shard.primary()),
    );
    let lastError: unknown;
    for (const h of hosts) {
      try {
        return await h.pool.ensureParams();
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  async close(): Promise<void> {
    this.cluster.stop();
    this.sharedPositions?.stop();
    await Promise.all([...this.shards.map((s) => s.close()), closeCoordinator(this.cluster)]);
  }
}
