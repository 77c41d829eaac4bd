// The cache's decisions: answer a read from Redis, capture its result for later, invalidate on commit, and
// go on without the cache (fail open) whenever Redis is slow or away.
import type { BeforeStatementDecision, CommittedWrite, EncodedResult, Statement } from '../../api.js';
import { decodeEntry, encodeEntry } from './codec.js';
import type { CacheConfig } from './config.js';
import { RedisTimeout, withDeadline } from './deadline.js';
import { databaseKeys, entryDigest, versionedTables, type DatabaseKeys } from './keys.js';
import type { CacheMetrics, RedisOperation, RedisTrouble } from './metrics.js';
import { PendingGenerations } from './pending-generations.js';
import { CachePolicy } from './policy.js';
import type { Lookup, VersionStore } from './version-store.js';

export interface QueryCacheDeps {
  readonly config: CacheConfig;
  readonly versions: VersionStore;
  readonly metrics: CacheMetrics;
  readonly trouble: RedisTrouble;
}

/** What a miss must remember to store the result once it arrives. */
interface PendingStore {
  readonly database: string;
  readonly entryKey: string;
  readonly counterKeys: readonly string[];
  /** The counters as read before the query ran. */
  readonly counters: readonly string[];
  readonly ttlMs: number;
}

const sameCounters = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((value, i) => value === b[i]);

/**
 * Correctness rests on one order of events. A read records its counters before it runs; a write bumps its
 * tables' counters after PostgreSQL committed it and before its client hears so; counters only move on. An
 * entry carries the counters its read recorded and is served only while they are all unchanged, so a result
 * that might predate a committed write is never served once that write's bump landed, whichever instance
 * bumped. Where a bump may not have landed, the database's generation moves on before its entries serve again.
 */
export class QueryCache {
  private readonly policy: CachePolicy;
  private readonly pending = new PendingGenerations();
  private readonly keysByDatabase = new Map<string, DatabaseKeys>();
  private readonly stores = new Set<Promise<void>>();

  constructor(private readonly deps: QueryCacheDeps) {
    this.policy = new CachePolicy(deps.config);
  }

  async beforeStatement(stmt: Statement): Promise<BeforeStatementDecision> {
    const verdict = this.policy.verdict(stmt);
    if (!verdict.cache) return undefined;
    const { database } = stmt.session;
    const keys = this.keys(database);
    const entryKey = keys.entry(entryDigest(stmt));
    const counterKeys = [keys.generation, ...versionedTables(stmt.tables).map(keys.version)];
    let found: Lookup;
    try {
      found = await this.redis('lookup', async () => {
        await this.pending.settle(database, () => this.deps.versions.bump([keys.generation]));
        return this.deps.versions.lookup(entryKey, counterKeys);
      });
    } catch {
      return undefined;
    }
    const { metrics } = this.deps;
    const entry = found.entry && decodeEntry(found.entry);
    if (entry && sameCounters(entry.counters, found.counters)) {
      metrics.hits.inc({ database });
      const bytes = (entry.result.rowDescription?.length ?? 0) + entry.result.dataRows.length;
      metrics.servedBytes.inc({ database }, bytes);
      return { answer: entry.result };
    }
    metrics.misses.inc({ database });
    const pending: PendingStore = {
      database,
      entryKey,
      counterKeys,
      counters: found.counters,
      ttlMs: verdict.ttlMs,
    };
    return { capture: (result) => this.track(this.keep(pending, result)) };
  }

  /** Bumps the written tables' versions, or the database generation for `*`; never waits past the timeout. */
  async onCommit(write: CommittedWrite): Promise<void> {
    try {
      await this.invalidate(write);
    } catch {
      // The bump may never arrive: no entry of this database is trusted until its generation moved on.
      this.pending.add(write.database);
    }
  }

  /** The bump of onCommit, but a failure is thrown: the change stream retries it before confirming. */
  async invalidate(write: CommittedWrite): Promise<void> {
    const keys = this.keys(write.database);
    const counterKeys = write.tables.includes('*')
      ? [keys.generation]
      : versionedTables(write.tables).map(keys.version);
    if (counterKeys.length === 0) return;
    await this.redis('invalidate', () => this.deps.versions.bump(counterKeys));
    this.deps.metrics.invalidations.inc({ database: write.database }, counterKeys.length);
  }

  /**
   * Redis (re)connected. It may have restarted from an old snapshot or failed over to a replica that missed
   * recent bumps, and bumps sent while it was away were lost: every database this instance has seen gets a
   * new generation, at once, so that other instances stop serving its old entries too.
   */
  redisReady(): void {
    for (const [database, keys] of this.keysByDatabase) {
      this.pending.add(database);
      const settle = this.pending.settle(database, () => this.deps.versions.bump([keys.generation]));
      this.redis('generation', () => settle).catch(() => {});
    }
  }

  /** Waits (at most the timeout) for results still being stored. */
  async drain(): Promise<void> {
    await withDeadline(Promise.allSettled([...this.stores]), this.deps.config.timeout).catch(() => {});
  }

  private async keep(pending: PendingStore, result: EncodedResult): Promise<void> {
    const { config, metrics } = this.deps;
    const { database } = pending;
    if (result.rowCount > config.max_rows) {
      metrics.skipped.inc({ database, reason: 'too_many_rows' });
      return;
    }
    const payload = (result.rowDescription?.length ?? 0) + result.dataRows.length;
    const bytes =
      payload <= config.max_entry_bytes ? encodeEntry({ counters: pending.counters, result }) : null;
    if (!bytes || bytes.length > config.max_entry_bytes) {
      metrics.skipped.inc({ database, reason: 'too_big' });
      return;
    }
    // An invalidation failed since the lookup: the counters read then prove nothing.
    if (this.pending.has(database)) return;
    let stored: boolean;
    try {
      stored = await this.redis('store', () =>
        this.deps.versions.store(
          pending.entryKey,
          pending.counterKeys,
          pending.counters,
          bytes,
          pending.ttlMs,
        ),
      );
    } catch {
      return;
    }
    if (stored) metrics.stores.inc({ database });
    else metrics.skipped.inc({ database, reason: 'changed' });
  }

  private track(work: Promise<void>): void {
    // keep() reports its own Redis failures; anything else (an entry the codec cannot hold) just is not kept.
    const settled = work.catch(() => {});
    this.stores.add(settled);
    void settled.finally(() => this.stores.delete(settled));
  }

  private keys(database: string): DatabaseKeys {
    let keys = this.keysByDatabase.get(database);
    if (!keys) {
      keys = databaseKeys(this.deps.config.key_prefix, database);
      this.keysByDatabase.set(database, keys);
    }
    return keys;
  }

  /** Runs one exchange with Redis within the timeout, counting and reporting a failure before rethrowing it. */
  private async redis<T>(operation: RedisOperation, work: () => Promise<T>): Promise<T> {
    try {
      const value = await withDeadline(work(), this.deps.config.timeout);
      this.deps.trouble.succeeded();
      return value;
    } catch (error) {
      const kind = error instanceof RedisTimeout ? 'timeout' : 'error';
      this.deps.metrics.redisFailures.inc({ operation, kind });
      this.deps.trouble.failed(operation, kind, error);
      throw error;
    }
  }
}
