// The coordinator of a sharded database: a PostgreSQL database (by default `<db>_coordinator` on the first
// shard's server) whose postgres_fdw tables mirror the shards, created on first need and kept in step with
// the shards' schema; reads the proxy's own plans cannot answer run there, on PostgreSQL's own planner.
import type { Cluster } from '../cluster.js';
import { parseHostPort, type HostPort } from '../../config/host-port.js';
import { errorCodes } from '../../errors.js';
import { silentLogger } from '../../logger.js';
import { Pool } from '../pool.js';
import { BackendError, ServerConnection, type ServerLogin } from '../server-connection.js';
import { ShardChannel } from '../shard-channel.js';
import { runSimple } from '../shard-exec.js';
import { StatementError } from '../statement-error.js';
import { readCatalog, type CatalogColumn, type CatalogRelation, type CatalogSnapshot } from './catalog.js';
import { ident, literal, ownSchema } from './layout-sql.js';
import { rebuild } from './rebuild.js';
import { refreshCopies } from './reference-copies.js';
import { analyzeMirror, readStatistics } from './statistics.js';

/** A shard schema changed by someone else than this proxy is noticed within this time. */
const recheckMs = 5_000;

/** Planner settings of every coordinator session: joins and aggregates of co-located partitions go to the shards. */
const sessionSettings = {
  enable_partitionwise_join: 'on',
  enable_partitionwise_aggregate: 'on',
  // Remote scans are priced high (a round trip each), so most coordinator plans would pass the JIT
  // thresholds and spend longer compiling than running what little is left on the coordinator.
  jit: 'off',
};

export class Coordinator {
  readonly endpoint: HostPort;
  readonly database: string;
  private readonly login: ServerLogin;
  private pool: Promise<Pool> | null = null;
  private syncing: Promise<void> | null = null;
  private syncedVersion = -1;
  private checkedAt = 0;
  private catalogKey = '';
  /** Table -> the default shard's analyze stamp its mirror was last analyzed at. */
  private analyzed = new Map<string, string>();
  /** A statistics refresh under way in the background. */
  private analyzing: Promise<void> | null = null;
  /** Relation name -> why the coordinator has no copy of it. */
  private skipped = new Map<string, string>();
  /** Whether reference tables are held as local copies (refreshed before each statement). */
  private copies = false;
  private closed = false;
  /** The shards' relations as last read, for the semi-join reduction's column lookups. */
  private relations: CatalogRelation[] = [];

  constructor(
    private readonly cluster: Cluster,
    config: { server?: string; database?: string },
  ) {
    const db = cluster.db.config;
    const first = db.shards[0];
    this.endpoint = parseHostPort(config.server ?? first.primary);
    this.database = config.database ?? `${first.database ?? db.backend.database}_coordinator`;
    this.login = {
      user: db.backend.user,
      password: db.backend.password,
      database: this.database,
      tls: db.backend.tls,
      connectTimeoutMs: db.backend.connect_timeout,
      params: { ...sessionSettings },
    };
  }

  /** For EXPLAIN ROUTE. */
  describe(): string {
    return `${this.endpoint.host}:${this.endpoint.port}/${this.database}`;
  }

  /** A connection to the coordinator database, its mirror of the shards' schema up to date. */
  async channel(): Promise<ShardChannel> {
    if (this.closed) throw StatementError.unsupported('the coordinator was stopped');
    const pool = await (this.pool ??= this.create().catch((err: Error) => {
      this.pool = null;
      throw err;
    }));
    await (this.syncing ??= this.sync(pool).finally(() => (this.syncing = null)));
    const c = new ShardChannel(-1, await pool.acquire(), pool);
    if (this.copies) await refreshCopies(c).catch((err: Error) => (c.release(), Promise.reject(err)));
    return c;
  }

  /** Why the coordinator cannot answer a statement naming these relations, or null. */
  refusal(relnames: string[]): string | null {
    for (const name of relnames) {
      const why = this.skipped.get(name);
      if (why) return `the coordinator has no copy of "${name}": ${why}`;
    }
    return null;
  }

  /**
   * A relation's kind and columns by name, or null when no table or view has that name or several schemas
   * do (a name that may mean another table is never taken for this one).
   */
  relationFacts(
    relname: string,
  ): { kind: 'sharded' | 'reference' | 'other'; columns: CatalogColumn[] } | null {
    const found = this.relations.filter((r) => r.name === relname);
    if (found.length !== 1) return null;
    const kind = this.cluster.map.kindOf(relname).kind;
    const table = found[0].kind === 'r' || found[0].kind === 'p';
    return {
      kind: kind === 'sharded' ? 'sharded' : kind === 'reference' && table ? 'reference' : 'other',
      columns: found[0].columns,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = null;
    if (pool) await (await pool.catch(() => null))?.close();
  }

  private async create(): Promise<Pool> {
    await this.ensureDatabase();
    const p = this.cluster.db.config.pool;
    const pool = new Pool(
      this.endpoint,
      this.login,
      {
        size: p.size,
        minIdle: 0,
        acquireTimeoutMs: p.acquire_timeout,
        idleTimeoutMs: p.idle_timeout,
        lifetimeMs: p.lifetime,
        healthCheckIntervalMs: p.health_check_interval,
      },
      silentLogger,
    );
    const conn = await pool.acquire();
    const c = new ShardChannel(-1, conn, pool);
    try {
      await runSimple(
        c,
        `CREATE SCHEMA IF NOT EXISTS ${ident(ownSchema)}; CREATE EXTENSION IF NOT EXISTS postgres_fdw SCHEMA ${ident(ownSchema)}`,
      ).catch((err: Error) => {
        throw StatementError.unsupported(
          `the coordinator needs the postgres_fdw extension in database "${this.database}" on ${this.describe()}: ${err.message}`,
          "install PostgreSQL's postgres_fdw (the contrib package) on that server, or set sharding.coordinator: off",
        );
      });
      const settings = Object.entries(sessionSettings).map(
        ([k, v]) => `ALTER DATABASE ${ident(this.database)} SET ${k} = ${literal(v)}`,
      );
      await runSimple(c, settings.join('; '));
    } catch (err) {
      c.release();
      await pool.close();
      throw err;
    }
    c.release();
    return pool;
  }

  /** Creates the coordinator database when it is missing, with the shard database's encoding and locale. */
  private async ensureDatabase(): Promise<void> {
    const probe = await ServerConnection.connect(this.endpoint, this.login).catch((err: Error) => err);
    if (!(probe instanceof Error)) return probe.close();
    if (!(probe instanceof BackendError) || probe.sqlstate !== errorCodes.unknownDatabase.sqlstate)
      throw probe;
    const catalog = await this.catalog();
    const first = this.cluster.db.config.shards[0];
    const shardDb = first.database ?? this.cluster.db.config.backend.database;
    const conn = await ServerConnection.connect(this.endpoint, { ...this.login, database: shardDb }).catch(
      () => ServerConnection.connect(this.endpoint, { ...this.login, database: 'postgres' }),
    );
    try {
      const { encoding, collate, ctype } = catalog.locale;
      const { error } = await conn.queryRow(
        `CREATE DATABASE ${ident(this.database)} TEMPLATE template0 ENCODING ${literal(encoding)} ` +
          `LC_COLLATE ${literal(collate)} LC_CTYPE ${literal(ctype)}`,
      );
      // Another proxy instance may have created it meanwhile.
      if (error && !/already exists/.test(error))
        throw StatementError.unsupported(
          `could not create the coordinator database "${this.database}": ${error}`,
        );
    } finally {
      conn.close();
    }
  }

  private async catalog(): Promise<CatalogSnapshot> {
    const c = await this.cluster.channel(this.cluster.map.defaultShard);
    try {
      return await readCatalog(c);
    } finally {
      c.release();
    }
  }

  /** Analyzes the mirrored tables whose statistics on the default shard changed since it last did. */
  private async refreshStatistics(pool: Pool): Promise<void> {
    const d = await this.cluster.channel(this.cluster.map.defaultShard);
    const stats = await readStatistics(d).finally(() => d.release());
    if ([...stats].every(([table, { stamp }]) => this.analyzed.get(table) === stamp)) return;
    const c = new ShardChannel(-1, await pool.acquire(), pool);
    try {
      const sharded = (name: string) => this.cluster.map.kindOf(name).kind === 'sharded';
      await analyzeMirror(c, stats, sharded, this.cluster.map.shardCount, this.skipped, this.analyzed);
    } finally {
      c.release();
    }
  }

  /**
   * Stale statistics only cost speed, so statements do not wait for a refresh (an ANALYZE reads the whole
   * table from the shards): it runs in the background, one at a time.
   */
  private refreshInBackground(pool: Pool): void {
    this.analyzing ??= this.refreshStatistics(pool)
      .catch(() => {})
      .finally(() => (this.analyzing = null));
  }

  /** After DDL through this proxy (facts dropped), or some seconds on: the mirror is rebuilt if the schema changed. */
  private async sync(pool: Pool): Promise<void> {
    const version = this.cluster.metaVersion;
    if (version === this.syncedVersion && Date.now() - this.checkedAt < recheckMs) return;
    const catalog = await this.catalog();
    this.relations = catalog.relations;
    if (catalog.key !== this.catalogKey) {
      // A rebuild drops the tables a background ANALYZE reads: it waits for that first.
      await this.analyzing;
      const c = new ShardChannel(-1, await pool.acquire(), pool);
      try {
        const mirror = await rebuild(c, this.cluster, catalog);
        this.skipped = mirror.skipped;
        this.copies = mirror.copies.length > 0;
      } finally {
        c.release();
      }
      this.catalogKey = catalog.key;
      // A new mirror has no statistics at all: its first statements wait for them, as plans can be far off.
      this.analyzed.clear();
      await this.refreshStatistics(pool);
    } else this.refreshInBackground(pool);
    this.syncedVersion = version;
    this.checkedAt = Date.now();
  }
}

const coordinators = new WeakMap<Cluster, Coordinator | null>();

/** The cluster's coordinator, or null when sharding.coordinator is off. */
export function coordinatorOf(cluster: Cluster): Coordinator | null {
  let c = coordinators.get(cluster);
  if (c !== undefined) return c;
  const config = cluster.db.config.sharding?.coordinator;
  c = !config || config === 'off' ? null : new Coordinator(cluster, config);
  coordinators.set(cluster, c);
  return c;
}

/** Closes the cluster's coordinator connections, if it ever opened any. */
export async function closeCoordinator(cluster: Cluster): Promise<void> {
  await coordinators.get(cluster)?.close();
}

/**
 * Forgets the cluster's coordinator after its shards were replaced (a reshard's switch): the next statement
 * makes a new one, whose mirror points at the new shards; the old one's connections close in the background.
 */
export function forgetCoordinator(cluster: Cluster): void {
  const old = coordinators.get(cluster);
  coordinators.delete(cluster);
  void old?.close().catch(() => {});
}
