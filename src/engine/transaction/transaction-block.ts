// A client's open transaction on a sharded database: a server connection per shard touched, committed together.
import type { Cluster } from '../../backend/cluster.js';
import type { ShardChannel } from '../../backend/shard-channel.js';
import type { WatchedTransaction } from '../../backend/cross-shard-deadlocks.js';
import { runSimple } from '../../backend/shard-exec.js';
import { StatementError } from '../../backend/statement-error.js';
import { commitTwoPhase, CoordinatorCrashed } from '../../backend/two-phase.js';

let blocksStarted = 0;

export class TransactionBlock implements WatchedTransaction {
  readonly channels = new Map<number, ShardChannel>();
  /** Shards that ran a write in this transaction. */
  readonly wrote = new Set<number>();
  failed = false;
  readonly seq = ++blocksStarted;
  committing = false;
  /** Set when the cross-shard deadlock detector rolled this transaction back. */
  deadlock: StatementError | null = null;

  constructor(
    /** The statement that opened the block, replayed on each shard the block reaches. */
    readonly begin: string,
    /** Opened by the proxy around one statement that writes to several shards. */
    readonly implicit: boolean,
    private readonly cluster: Cluster,
  ) {
    cluster.deadlocks.watch(this);
  }

  /** Commits every shard: one writer commits plainly, several commit with two-phase commit. */
  async commit(cluster: Cluster): Promise<void> {
    const all = [...this.channels.values()];
    const writers = all.filter((c) => this.wrote.has(c.shard));
    this.committing = true;
    try {
      // A victim whose statement got its lock just before the detector acted: its shards were rolled back.
      if (this.deadlock) {
        await this.rollback();
        throw this.deadlock;
      }
      if (writers.length <= 1) {
        // Readers first: if the one writer's COMMIT fails, nothing else changed.
        const ordered = [...all.filter((c) => !this.wrote.has(c.shard)), ...writers];
        for (const c of ordered) await runSimple(c, 'COMMIT');
        return;
      }
      // After PREPARE TRANSACTION a participant's connection is free: shard 0's one can write the decision.
      const own = this.channels.get(0);
      await commitTwoPhase(
        all,
        cluster.nextGid(),
        () => (own ? Promise.resolve(own) : cluster.channel(0)),
        (c) => {
          if (c !== own) c.release();
        },
      );
    } catch (err) {
      if (err instanceof CoordinatorCrashed) {
        throw StatementError.of(
          'connectionFailure',
          `proxy stopped during two-phase commit (${err.message})`,
        );
      }
      throw err;
    } finally {
      this.release();
    }
  }

  async rollback(): Promise<void> {
    await Promise.allSettled([...this.channels.values()].map((c) => runSimple(c, 'ROLLBACK')));
    this.release();
  }

  release(): void {
    for (const c of this.channels.values()) c.release();
    this.channels.clear();
    this.cluster.deadlocks.forget(this);
  }
}
