// A database clients connect to: its config, its pool to the primary, and the router seam.
import type { DatabaseConfig } from '../config/schema.js';
import { parseHostPort } from '../config/host-port.js';
import type { Logger } from '../logger.js';
import type { RouteDecision } from '../router/route-decision.js';
import { Pool } from './pool.js';

export class Database {
  readonly pool: Pool;
  private readonly primaryRoute: RouteDecision;

  constructor(
    readonly name: string,
    readonly config: DatabaseConfig,
    log: Logger,
  ) {
    const shard = config.shards[0];
    const endpoint = parseHostPort(shard.primary);
    const b = config.backend;
    const p = config.pool;
    this.pool = new Pool(
      endpoint,
      {
        user: b.user,
        password: b.password,
        database: b.database,
        tls: b.tls,
        connectTimeoutMs: b.connect_timeout,
      },
      {
        size: p.size,
        minIdle: p.min_idle,
        acquireTimeoutMs: p.acquire_timeout,
        idleTimeoutMs: p.idle_timeout,
        lifetimeMs: p.lifetime,
        healthCheckIntervalMs: p.health_check_interval,
      },
      log.child({ database: name }),
    );
    this.primaryRoute = { role: 'primary', shard: 0, host: shard.primary, reason: 'single-primary' };
  }

  get mode(): 'transaction' | 'session' {
    return this.config.pool.mode;
  }

  /** The router seam: with one primary every statement goes there; replicas and shards extend this. */
  route(): RouteDecision {
    return this.primaryRoute;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
