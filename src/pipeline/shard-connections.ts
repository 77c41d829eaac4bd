// The shard connections of one client on a sharded database: its transaction block's, autocommit ones
// with its settings, replicas that have its writes (read-your-writes), and statements run on several at once.
import type { Cluster } from '../backend/cluster.js';
import { gateOf, type ReshardGate } from '../backend/reshard-gate.js';
import { parseLsn } from '../backend/lsn.js';
import type { ServerConnection } from '../backend/server-connection.js';
import { settingsDiff } from '../backend/server-settings.js';
import type { ShardChannel } from '../backend/shard-channel.js';
import { runSimple } from '../backend/shard-exec.js';
import { StatementError } from '../backend/statement-error.js';
import { TransactionBlock } from '../engine/transaction/transaction-block.js';
import type { ShardUse } from '../engine/types.js';

export interface RunnerHooks {
  /** The connection a running statement uses (the first, when several): client cancels go there. */
  running(conn: ServerConnection | null): void;
  cancel(conn: ServerConnection): void;
}

export const aborted = () => StatementError.of('inFailedTransaction');

/** How long a failed statement's other shards get to answer their cancel before their connections are closed. */
const cancelAnswerMs = 2_000;

/** Waits until every promise settled, or `ms` passed. */
async function settledWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.allSettled(promises), late]);
  clearTimeout(timer);
}

/** A position no replica reaches: reads go to the primary. */
export const unknownPosition = 2n ** 64n - 1n;

export class ShardConnections {
  block: TransactionBlock | null = null;
  /** Read-your-writes: per shard, the primary's WAL position after this client's last write there. */
  protected readonly minLsn = new Map<number, bigint>();
  /** The client's read-your-writes scope (user, or user and application), or null for its connection alone. */
  scope: string | null = null;
  /** Closed during a reshard's cutover: statements outside a block wait before they route. */
  protected readonly gate: ReshardGate;
  /** The connections this client's statement runs on now, each to be cancelled when it runs too long. */
  readonly inFlight = new Set<ServerConnection>();

  constructor(
    protected readonly hooks: RunnerHooks,
    readonly cluster: Cluster,
    protected readonly primaryFunctions: ReadonlySet<string>,
    protected readonly startup: Map<string, string>,
    public settings: Map<string, string>,
  ) {
    this.gate = gateOf(cluster);
  }

  /**
   * Runs one statement per shard in parallel. When one shard fails (a cancel reached it, say), the others
   * are cancelled too rather than left running for a result nobody reads; their answers to the cancel are
   * awaited a little, so their connections go back to the pool rather than being closed mid-statement.
   */
  async onEach<T>(chs: ShardChannel[], f: (c: ShardChannel, i: number) => Promise<T>): Promise<T[]> {
    const done = chs.map(() => false);
    const runs = chs.map(async (c, i) => {
      try {
        return await f(c, i);
      } finally {
        done[i] = true;
      }
    });
    try {
      return await Promise.all(runs);
    } catch (err) {
      chs.forEach((c, i) => {
        if (!done[i]) this.hooks.cancel(c.conn);
      });
      if (done.includes(false)) await settledWithin(runs, cancelAnswerMs);
      throw err;
    }
  }

  /**
   * Runs `fn` with a connection per shard: those of the open transaction block, those of a transaction the
   * proxy opens around a statement writing to several shards (`atomic`), or autocommit ones.
   */
  async onShards<T>(shards: number[], use: ShardUse, fn: (chs: ShardChannel[]) => Promise<T>): Promise<T> {
    const { atomic, write } = use;
    if (this.block) {
      const block = this.block;
      try {
        const chs: ShardChannel[] = [];
        for (const s of shards) chs.push(await this.blockChannel(block, s));
        if (write) for (const s of shards) block.wrote.add(s);
        return await this.attached(chs, fn);
      } catch (err) {
        block.failed = true;
        throw err;
      }
    }
    if (atomic && shards.length > 1) return this.atomically(shards, write, fn);
    const chs = await Promise.all(shards.map((s) => (write ? this.acquire(s) : this.acquireRead(s))));
    try {
      const result = await this.attached(chs, fn);
      if (write) await Promise.all(chs.map((c) => this.learnPosition(c)));
      return result;
    } finally {
      for (const c of chs) c.release();
    }
  }

  /** A statement over several shards in a transaction of its own, committed with two-phase commit. */
  private async atomically<T>(
    shards: number[],
    write: boolean,
    fn: (chs: ShardChannel[]) => Promise<T>,
  ): Promise<T> {
    const block = new TransactionBlock('BEGIN', true, this.cluster);
    this.block = block;
    try {
      const result = await this.onShards(shards, { atomic: false, write }, fn);
      this.block = null;
      if (block.failed) throw aborted();
      await block.commit(this.cluster);
      await this.learnPositions(block.wrote);
      return result;
    } catch (err) {
      this.block = null;
      await block.rollback();
      throw err;
    }
  }

  /**
   * Read-your-writes per shard: after this client's write commits on a shard with replicas, the primary's
   * WAL position, which a replica must have replayed before it may serve this client's reads of that shard.
   */
  private async learnPosition(c: ShardChannel): Promise<void> {
    if (!this.cluster.replicated(c.shard) || this.cluster.db.config.routing.read_your_writes === 'off')
      return;
    const positions = this.scope === null ? null : this.cluster.writePositions[c.shard];
    positions?.committing(this.scope!);
    const { row } = await c.conn.queryRow('SELECT pg_current_wal_lsn()').catch(() => ({ row: undefined }));
    const lsn = parseLsn(row?.[0]);
    positions?.learnt(this.scope!, lsn);
    const known = this.minLsn.get(c.shard);
    // Unknown after a write: only the primary is sure to have it, until a later write tells a position.
    if (lsn === null) this.minLsn.set(c.shard, unknownPosition);
    else if (known === undefined || known === unknownPosition || lsn > known) this.minLsn.set(c.shard, lsn);
  }

  /** After a transaction block committed: the positions of the shards it wrote, from a primary connection. */
  protected async learnPositions(shards: Iterable<number>): Promise<void> {
    for (const shard of shards) {
      if (!this.cluster.replicated(shard)) continue;
      const c = await this.cluster.channel(shard).catch(() => null);
      if (!c) {
        this.minLsn.set(shard, unknownPosition);
        continue;
      }
      try {
        await this.learnPosition(c);
      } finally {
        c.release();
      }
    }
  }

  /**
   * The position a replica of the shard must have replayed to serve this client's reads: its own last write
   * there, and its scope's (an unknown one, while a commit's position is being learnt, means the primary).
   */
  protected readAfter(shard: number): bigint | null {
    const own = this.minLsn.get(shard) ?? null;
    if (this.scope === null) return own;
    const positions = this.cluster.writePositions[shard];
    if (positions.pending(this.scope)) return unknownPosition;
    const scoped = positions.minLsn(this.scope);
    if (own === null) return scoped;
    return scoped === null || own >= scoped ? own : scoped;
  }

  /**
   * A client whose writes went to a server the cluster no longer has (its one shard, before a reshard): its
   * reads go to each shard's primary until a write there tells the position the shard's replicas must reach.
   */
  readFromPrimaries(): void {
    for (const shard of this.cluster.map.allShards()) this.minLsn.set(shard, unknownPosition);
  }

  /** A connection for a read outside a block, with this client's settings: a replica where one may serve it. */
  private async acquireRead(shard: number): Promise<ShardChannel> {
    const c = await this.cluster.readChannel(shard, this.readAfter(shard));
    return this.applySettings(c);
  }

  private async attached<T>(chs: ShardChannel[], fn: (chs: ShardChannel[]) => Promise<T>): Promise<T> {
    for (const c of chs) this.inFlight.add(c.conn);
    this.hooks.running(chs[0]?.conn ?? null);
    try {
      return await fn(chs);
    } finally {
      for (const c of chs) this.inFlight.delete(c.conn);
      this.hooks.running(null);
    }
  }

  private async blockChannel(block: TransactionBlock, shard: number): Promise<ShardChannel> {
    let c = block.channels.get(shard);
    if (c) return c;
    c = await this.acquire(shard);
    block.channels.set(shard, c);
    await runSimple(c, block.begin);
    return c;
  }

  /** A primary connection with this client's session settings applied. */
  private async acquire(shard: number): Promise<ShardChannel> {
    return this.applySettings(await this.cluster.channel(shard));
  }

  private async applySettings(c: ShardChannel): Promise<ShardChannel> {
    const sql = settingsDiff(this.settings, c.conn);
    if (sql) await runSimple(c, sql).catch(() => c.conn.session.forgetSettings());
    return c;
  }
}
