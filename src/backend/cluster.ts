// A database's shards as one (an unsharded database is a cluster of one shard with an empty map): shard map,
// table metadata, transaction ids, in-doubt resolution.
import { randomBytes } from 'node:crypto';
import { errorCodes } from '../errors.js';
import type { Logger } from '../logger.js';
import { ShardMap } from '../router/sharding/shard-map.js';
import type { TableMeta } from '../router/sharding/shard-route.js';
import type { ViewFacts } from '../router/sharding/relation-kinds.js';
import type { HashKeyType } from '../router/sharding/pg-hash.js';
import { hashKeyTypeOf } from '../router/sharding/key-types.js';
import type { TableKind } from '../router/sharding/shard-map.js';
import type { ShardingConfig } from '../config/schema.js';
import { ShardChannel } from './shard-channel.js';
import { runSimple, sqlLiteral, textOf } from './shard-exec.js';
import { gidPrefix, resolveInDoubt, type ResolveOutcome } from './two-phase.js';
import { loadViewFacts } from './view-facts.js';
import { CrossShardDeadlocks } from './cross-shard-deadlocks.js';
import type { ClusterDatabase } from './cluster-database.js';
import type { Pool } from './pool.js';
import type { Shard } from './shard.js';
import { BackendError } from './server-connection.js';
import { WritePositions } from './write-positions.js';
import { StatementError } from './statement-error.js';

/** How often, and after how long, prepared transactions without a live coordinator are resolved. */
const resolveIntervalMs = 10_000;
const inDoubtAgeMs = 30_000;

type CatalogRow = (Buffer | null)[];

/** The map of a database without a `sharding` section: no table sharded, every one on shard 0. */
export const noSharding: ShardingConfig = {
  tables: {},
  reference: [],
  default_shard: 0,
  algorithm: 'hash',
  deadlock_check_interval: 0,
  coordinator: 'off',
  lock_wait_limit: 0,
};

/**
 * The key's hash type. A hash-sharded table keyed by a type whose hash the proxy cannot compute as
 * PostgreSQL does is refused: its rows would lie elsewhere than PARTITION BY HASH puts them.
 */
function keyTypeOf(table: string, kind: TableKind, keyRow: CatalogRow | undefined): HashKeyType {
  const [oid, typmod] = [
    Number(textOf(keyRow?.[1] ?? null) ?? 25),
    Number(textOf(keyRow?.[2] ?? null) ?? -1),
  ];
  const type = hashKeyTypeOf(oid, typmod);
  if (type) return type;
  if (kind.kind === 'sharded' && kind.placement.algorithm === 'hash') {
    const column = kind.placement.column;
    throw StatementError.of(
      'featureNotSupported',
      `hash-sharded table "${table}" has shard key "${column}" of type ${textOf(keyRow?.[3] ?? null)}, which the proxy cannot hash as PostgreSQL does`,
      'use an integer, text or uuid shard key (or date, timestamp, bool, oid, unconstrained numeric)',
    );
  }
  return 'text';
}

/** Catalog facts read ahead of a switch, and the metaVersion they were read at. */
export interface MetaSnapshot {
  readonly version: number;
  readonly meta: ReadonlyMap<string, TableMeta>;
  readonly views: ReadonlyMap<string, ViewFacts | null>;
}

/** Column order and key type of a table under `map` from the catalog `channel` reads; null when it is missing. */
async function readTableMeta(channel: ShardChannel, map: ShardMap, table: string): Promise<TableMeta | null> {
  const answer = await runSimple(
    channel,
    'SELECT attname, atttypid, atttypmod, format_type(atttypid, atttypmod) FROM pg_catalog.pg_attribute ' +
      `WHERE attrelid = to_regclass(${sqlLiteral(table)}) ` +
      'AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
  );
  if (answer.rows.length === 0) return null;
  const kind = map.kindOf(table);
  const keyColumn = kind.kind === 'sharded' ? kind.placement.column.toLowerCase() : '';
  const columns = answer.rows.map((r) => textOf(r[0])!);
  const keyRow = answer.rows.find((r) => textOf(r[0]) === keyColumn);
  return { keyType: keyTypeOf(table, kind, keyRow), columns };
}

export class Cluster {
  readonly map: ShardMap;
  /** Catalog facts per table; missing until first needed, dropped after DDL. */
  private readonly meta = new Map<string, TableMeta>();
  /** View facts of the other relations by name (null: no view), for as long as `meta`. */
  private readonly views = new Map<string, ViewFacts | null>();
  /** Changes whenever catalog facts are dropped: what was derived from them must be derived again. */
  metaVersion = 0;
  private readonly instance = randomBytes(4).toString('hex');
  private txCounter = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Deadlocks between clients' transactions over several shards, which no shard sees on its own. */
  readonly deadlocks: CrossShardDeadlocks;
  /** Read-your-writes positions per shard of scopes wider than one connection (routing.read_your_writes). */
  readonly writePositions: WritePositions[];

  constructor(
    readonly db: ClusterDatabase,
    private readonly log: Logger,
  ) {
    this.map = new ShardMap(db.config.sharding ?? noSharding, db.shards.length);
    this.deadlocks = new CrossShardDeadlocks(db, log);
    this.writePositions = db.shards.map((shard) => new WritePositions(() => shard.replayedEverywhere()));
  }

  get shardCount(): number {
    return this.db.shards.length;
  }

  /**
   * A `sharding` section and more than one shard: the engine answers the protocol, and two-phase commit, the
   * in-doubt resolver and the deadlock detector run. Otherwise the one shard's server answers the client.
   */
  get sharded(): boolean {
    return this.db.config.sharding !== undefined && this.db.shards.length > 1;
  }

  /**
   * Resolves in-doubt transactions now (all of them: no coordinator of ours runs yet) and periodically.
   * Nothing to do for one shard (no two-phase commit there); a reshard that makes it several starts it again.
   */
  async start(): Promise<void> {
    if (!this.sharded || this.timer) return;
    const resolve = (minAgeMs: number) =>
      this.resolve(minAgeMs).catch((err: Error) =>
        this.log.warn('in-doubt resolution failed', { err: err.message }),
      );
    this.timer = setInterval(() => void resolve(inDoubtAgeMs), resolveIntervalMs);
    this.timer.unref();
    await resolve(0);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.deadlocks.stop();
  }

  /** A fresh global transaction id, unique across proxy instances. */
  nextGid(): string {
    return `${gidPrefix}${this.instance}_${Date.now().toString(36)}_${++this.txCounter}`;
  }

  /** A connection to a shard's primary, owned by the caller until release(). */
  async channel(shard: number): Promise<ShardChannel> {
    const primary = this.db.shards[shard].primary();
    if (!primary) throw this.db.shards[shard].noPrimaryError();
    const conn = await primary.pool.acquire();
    return new ShardChannel(shard, conn, primary.pool);
  }

  /**
   * The pool channelNow() takes from when that is the shard's primary (writes, and every statement of a shard
   * without replicas): a caller that found no idle connection there may wait on it. Null otherwise.
   */
  primaryPoolFor(shard: number, write: boolean): Pool | null {
    return onPrimary(this.db.shards[shard], write) ? (this.db.shards[shard].primary()?.pool ?? null) : null;
  }

  /**
   * A connection at hand right now, as channel() or readChannel() would give it, or null when the pool has
   * no idle one (or no server fits): the synchronous fast path of single-shard statements.
   */
  channelNow(shard: number, write: boolean, minLsn: bigint | null): ShardChannel | null {
    const s = this.db.shards[shard];
    if (onPrimary(s, write)) {
      const primary = s.primary();
      const conn = primary?.pool.tryAcquire();
      return conn ? new ShardChannel(shard, conn, primary!.pool) : null;
    }
    const choice = s.choose('read', 'read-only-select', minLsn);
    if (!choice) return null;
    const conn = choice.host.pool.tryAcquire();
    if (!conn) return null;
    if (choice.decision.role !== 'primary') choice.count++;
    return new ShardChannel(shard, conn, choice.host.pool);
  }

  /**
   * A connection for a read outside a transaction block: a replica of the shard that is within max_replica_lag
   * and has replayed minLsn (read-your-writes), else the primary, by the same rules as unsharded databases.
   */
  async readChannel(shard: number, minLsn: bigint | null): Promise<ShardChannel> {
    const choice = this.db.shards[shard].choose('read', 'read-only-select', minLsn);
    if (!choice || choice.decision.role === 'primary') return this.channel(shard);
    try {
      const conn = await choice.host.pool.acquire();
      choice.count++;
      return new ShardChannel(shard, conn, choice.host.pool);
    } catch (err) {
      // A replica that cannot be reached: the read goes to the primary, and the monitor learns of it.
      if (err instanceof BackendError && err.sqlstate === errorCodes.connectionFailure.sqlstate)
        choice.host.monitor.markDown(err.message);
      return this.channel(shard);
    }
  }

  /** Whether reads may use replicas, and a write's position must be learnt for read-your-writes. */
  replicated(shard: number): boolean {
    return this.db.shards[shard].hasReplicas;
  }

  /** Commits or rolls back prepared transactions of stopped coordinators (see two-phase.ts). */
  async resolve(minAgeMs: number): Promise<ResolveOutcome> {
    const channels: ShardChannel[] = [];
    try {
      for (let i = 0; i < this.shardCount; i++) channels.push(await this.channel(i));
      const outcome = await resolveInDoubt(channels, channels[0], minAgeMs);
      if (outcome.committed.length || outcome.rolledBack.length)
        this.log.info('resolved in-doubt transactions', { ...outcome });
      return outcome;
    } finally {
      for (const c of channels) c.release();
    }
  }

  metaOf(table: string): TableMeta | undefined {
    return this.meta.get(table.toLowerCase());
  }

  viewOf(relname: string): ViewFacts | null | undefined {
    return this.views.get(relname);
  }

  forgetMeta(): void {
    this.meta.clear();
    this.views.clear();
    this.metaVersion++;
  }

  /**
   * The catalog facts of every relation known now, read from `channel` (a shard of the cluster a reshard
   * switches to) under that cluster's `map`: adoptMeta() puts them in place at the switch, so the first
   * statements there need not read the catalog while clients wait.
   */
  async readMetaAhead(map: ShardMap, channel: ShardChannel): Promise<MetaSnapshot> {
    const version = this.metaVersion;
    const names = [...new Set([...this.meta.keys(), ...this.views.keys()])];
    const meta = new Map<string, TableMeta>();
    for (const table of names.filter((t) => map.kindOf(t).kind === 'sharded')) {
      const facts = await readTableMeta(channel, map, table.toLowerCase());
      if (facts) meta.set(table.toLowerCase(), facts);
    }
    const others = names.filter((t) => map.kindOf(t).kind !== 'sharded');
    const views =
      others.length > 0 ? await loadViewFacts(channel, others) : new Map<string, ViewFacts | null>();
    return { version, meta, views };
  }

  /**
   * Replaces the catalog facts with those read ahead for a switch, or forgets them all when any were
   * forgotten since the read began (DDL ran through the proxy meanwhile: the snapshot may be stale).
   */
  adoptMeta(ahead: MetaSnapshot | null): void {
    const fresh = ahead !== null && ahead.version === this.metaVersion;
    this.forgetMeta();
    if (!fresh) return;
    for (const [table, facts] of ahead.meta) this.meta.set(table, facts);
    for (const [name, facts] of ahead.views) this.views.set(name, facts);
  }

  /** Whether every table of the list has its catalog facts known (the common case: no await needed). */
  hasMeta(tables: string[]): boolean {
    for (const t of tables) if (!this.meta.has(t.toLowerCase()) && !this.views.has(t)) return false;
    return true;
  }

  /**
   * Learns key types and column order of sharded tables, and view facts of other relations, not yet known,
   * from the default shard. False when facts were forgotten meanwhile (DDL ran): what it read may be stale.
   */
  async loadMeta(tables: string[], held?: ShardChannel): Promise<boolean> {
    const missing = [...new Set(tables.map((t) => t.toLowerCase()))].filter(
      (t) => !this.meta.has(t) && this.map.kindOf(t).kind === 'sharded',
    );
    const others = [...new Set(tables)].filter(
      (t) => !this.views.has(t) && this.map.kindOf(t).kind !== 'sharded',
    );
    if (missing.length === 0 && others.length === 0) return true;
    const version = this.metaVersion;
    // A client's transaction may hold the default shard's connection: reading the catalog there avoids
    // waiting for a second connection from a pool it may have exhausted.
    const channel = held ?? (await this.channel(this.map.defaultShard));
    try {
      for (const table of missing) {
        const meta = await readTableMeta(channel, this.map, table);
        if (meta && this.metaVersion === version) this.meta.set(table, meta);
      }
      const views = others.length > 0 ? await loadViewFacts(channel, others) : new Map();
      if (this.metaVersion !== version) return false;
      for (const [name, facts] of views) this.views.set(name, facts);
      return true;
    } finally {
      if (!held) channel.release();
    }
  }
}

/** Writes, and every statement of a shard without replicas, run on the shard's primary. */
function onPrimary(shard: Shard, write: boolean): boolean {
  return write || !shard.hasReplicas;
}
