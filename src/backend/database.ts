// A database clients connect to: its config, its servers (one shard for now) and their pools.
import type { DatabaseConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { PluginHost } from '../plugins/host.js';
import type { StatementMetrics } from '../metrics/statement-metrics.js';
import { Shard } from './shard.js';
import type { Pool } from './pool.js';

export class Database {
  readonly shard: Shard;
  readonly primaryFunctions: ReadonlySet<string>;
  /** The proxy's plugins, set by the composition root; null when none is enabled. */
  plugins: PluginHost | null = null;
  /** Statement counts, latency and errors; set by the composition root. */
  statementMetrics: StatementMetrics | null = null;

  constructor(
    readonly name: string,
    readonly config: DatabaseConfig,
    log: Logger,
  ) {
    this.shard = new Shard(0, config, log.child({ database: name }));
    this.primaryFunctions = new Set(config.routing.primary_functions.map((f) => f.toLowerCase()));
  }

  get mode(): 'transaction' | 'session' {
    return this.config.pool.mode;
  }

  start(): Promise<void> {
    return this.shard.start();
  }

  pools(): Pool[] {
    return this.shard.hosts.map((h) => h.pool);
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

  close(): Promise<void> {
    return this.shard.close();
  }
}
