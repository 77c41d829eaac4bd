// Phase (c), the reading side: one change stream per source primary from its reshard slot, applied to the
// target shards (old to new; after the cutover, new to old for the reverse stream); lag read from the slots,
// and a catch-up that waits until every stream has passed a marker write.
import type { Logger } from '../logger.js';
import type { ShardMap } from '../router/sharding/shard-map.js';
import { ChangeStream } from '../streams/change-stream.js';
import { waitFor } from '../sandbox/wait.js';
import { ChangeApplier } from './apply.js';
import { withClient, type Runner } from './connect.js';
import { markTable } from './copy.js';
import { slotOf, type ReshardPlan, type TableFacts } from './plan.js';
import { TouchedKeys } from './touched.js';

export class ReshardStreams {
  private readonly appliers: ChangeApplier[];
  private readonly streams: ChangeStream[];
  /** The last marker value each old shard's stream applied. */
  private readonly marks: bigint[];
  private lastMark = 0n;
  /** The keys applied since the live verification began (the cutover's tail). */
  readonly touched = new TouchedKeys();

  constructor(
    private readonly plan: ReshardPlan,
    map: ShardMap,
    tables: readonly TableFacts[],
    log: Logger,
  ) {
    this.marks = plan.source.map(() => 0n);
    this.appliers = plan.source.map(
      (_, shard) => new ChangeApplier(plan, map, tables, shard, (s, n) => (this.marks[s] = n), this.touched),
    );
    this.streams = plan.source.map((server, shard) => {
      const slot = slotOf(plan, shard);
      return new ChangeStream({
        server,
        slot,
        publication: slot,
        consumer: 'reshard',
        retryMs: 200,
        log,
        applyTransactions: (transactions) => this.appliers[shard]!.apply(transactions),
      });
    });
  }

  start(): void {
    for (const stream of this.streams) stream.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.streams.map((stream) => stream.stop()));
    await Promise.all(this.appliers.map((applier) => applier.close()));
  }

  /** Rows the streams wrote to the new shards so far. */
  get applied(): number {
    return this.appliers.reduce((sum, a) => sum + a.applied, 0);
  }

  /** WAL bytes each old primary wrote that its slot has not confirmed yet. */
  async lagBytes(): Promise<number[]> {
    return Promise.all(
      this.plan.source.map((server, shard) =>
        withClient(server, async (client) => {
          const { rows } = await client.query<{ lag: string | null }>(
            'SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $1',
            [slotOf(this.plan, shard)],
          );
          return Number(rows[0]?.lag ?? 0);
        }),
      ),
    );
  }

  /**
   * Writes a marker on every old primary and waits until each stream applied it: everything those primaries
   * committed before is then on the new shards.
   */
  async catchUp(timeoutMs: number, run: Runner = withClient): Promise<void> {
    // Never the same marker twice, so a stream that applied an earlier one does not count as caught up.
    const n = (this.lastMark = BigInt(Math.max(Date.now(), Number(this.lastMark) + 1)));
    await Promise.all(
      this.plan.source.map((server) =>
        run(server, (client) =>
          client.query(
            `INSERT INTO ${markTable} (database, n) VALUES ($1, $2) ON CONFLICT (database) DO UPDATE SET n = $2`,
            [this.plan.database, n.toString()],
          ),
        ),
      ),
    );
    await waitFor(async () => this.marks.every((mark) => mark >= n), {
      timeoutMs,
      intervalMs: 20,
      what: 'the reshard streams to catch up',
    });
  }
}
