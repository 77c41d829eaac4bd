// Phase (f): after the cutover, the new shards' changes applied back to the old shards by the old map (the
// forward stream's code with the sides swapped), so RESHARD ... REVERT returns to the old shards without loss.
import type { ShardingConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { ServerLogin } from '../streams/stream-lock.js';
import { ShardMap } from '../router/sharding/shard-map.js';
import { withClient, type Runner } from './connect.js';
import { createPublication, dropSlot, markTable } from './copy.js';
import { forgetOrigin } from './origin.js';
import { slotName, slotOf, type ReshardPlan, type TableFacts } from './plan.js';
import { ReshardStreams } from './stream.js';
import { loadTables } from './tables.js';
import type { TouchedKeys } from './touched.js';

/** The forward plan turned around: the new shards are read, the old ones written by the old map. */
export function reversedPlan(forward: ReshardPlan, oldSharding: ShardingConfig): ReshardPlan {
  return {
    database: forward.database,
    source: forward.target,
    sourceDefaultShard: forward.targetSharding.default_shard,
    target: forward.source,
    targetSharding: oldSharding,
    reverse: true,
  };
}

export class ReverseStream {
  readonly plan: ReshardPlan;
  private readonly map: ShardMap;
  /** Where each table's rows are read from: the new map (a table sharded there is on every new shard). */
  private readonly roles: ShardMap;
  private tables: TableFacts[] = [];
  private streams: ReshardStreams | null = null;

  constructor(
    forward: ReshardPlan,
    oldSharding: ShardingConfig,
    private readonly log: Logger,
  ) {
    this.plan = reversedPlan(forward, oldSharding);
    this.map = new ShardMap(oldSharding, forward.source.length);
    // Back to one shard (1 -> N reverted), a table has every target group on it whatever its old role, while
    // on the new shards it may be sharded: roles come from the new map. Otherwise both maps place it alike.
    this.roles =
      forward.source.length === 1 ? new ShardMap(forward.targetSharding, forward.target.length) : this.map;
  }

  /** Before the cutover: the tables, and a publication on each new primary (leftovers of an earlier try dropped). */
  async prepare(): Promise<void> {
    this.tables = await loadTables(this.plan.source[0]!, this.roles);
    await this.drop();
    await Promise.all(
      this.plan.source.map((server, shard) =>
        createPublication(server, slotOf(this.plan, shard), this.tables),
      ),
    );
  }

  /**
   * A slot on each new primary, made while the cutover holds statements and both sides are equal: the slots
   * start where the new shards start serving, so no snapshot copy is needed. (Made earlier, they would send
   * the forward stream's own writes back to the old shards.)
   */
  async create(run: Runner = withClient): Promise<void> {
    await Promise.all(
      this.plan.source.map((server, shard) =>
        run(server, (c) =>
          c.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slotOf(this.plan, shard)]),
        ),
      ),
    );
  }

  /**
   * After a restart since the switch: the slots kept their position, the publications are there; the tables
   * are read again and the stream resumes (applying a change twice leaves the same row).
   */
  async resume(): Promise<void> {
    // The tables the publications carry: tables made since the switch (the proxy's own) are not reverted.
    const published = await withClient(this.plan.source[0]!, (c) =>
      c.query<{ name: string }>(
        "SELECT lower(schemaname || '.' || tablename) AS name FROM pg_publication_tables WHERE pubname = $1",
        [slotOf(this.plan, 0)],
      ),
    );
    const names = new Set(published.rows.map((r) => r.name));
    const tables = await loadTables(this.plan.source[0]!, this.roles);
    this.tables = tables.filter((t) => names.has(t.name));
    for (const [shard, server] of this.plan.source.entries()) {
      const slot = slotOf(this.plan, shard);
      const { rowCount } = await withClient(server, (c) =>
        c.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]),
      );
      if (!rowCount) throw new Error(`the reverse stream's slot ${slot} is gone: REVERT cannot catch up`);
    }
    this.start();
  }

  start(): void {
    this.streams = new ReshardStreams(this.plan, this.map, this.tables, this.log);
    this.streams.start();
  }

  /** Rows written back to the old shards so far. */
  get applied(): number {
    return this.streams?.applied ?? 0;
  }

  async lag(): Promise<{ applied: number; lagBytes: number[] }> {
    if (!this.streams) throw new Error('the reverse stream is not running');
    return { applied: this.streams.applied, lagBytes: await this.streams.lagBytes() };
  }

  /** Waits until the old shards have what the new primaries committed so far. */
  async catchUp(timeoutMs: number, run?: Runner): Promise<void> {
    if (!this.streams) throw new Error('the reverse stream is not running');
    await this.streams.catchUp(timeoutMs, run);
  }

  /** The tables the revert's cutover compares, and the keys the reverse stream records for its tail. */
  verification(): { tables: readonly TableFacts[]; touched: TouchedKeys } {
    if (!this.streams) throw new Error('the reverse stream is not running');
    return { tables: this.tables, touched: this.streams.touched };
  }

  async stop(): Promise<void> {
    await this.streams?.stop();
    this.streams = null;
  }

  /** Stops, then drops the slots, publications and marker tables on the new primaries, and the origin kept there. */
  async drop(): Promise<void> {
    await this.stop();
    await forgetOrigin(this.plan.source[0]!, this.plan.database);
    for (const [shard, server] of this.plan.source.entries()) {
      await dropSlot(server, slotOf(this.plan, shard));
      await withClient(server, (c) => c.query(`DROP TABLE IF EXISTS ${markTable}`));
    }
  }
}

/**
 * FINISH without the job (the proxy restarted since the switch, its config naming the new shards): the
 * reverse slots, publications and marker tables left on those shards. Returns how many slots were there.
 */
export async function dropLeftReverse(database: string, shards: readonly ServerLogin[]): Promise<number> {
  let found = 0;
  for (const [shard, server] of shards.entries()) {
    const slot = slotName(database, shard, true);
    const { rowCount } = await withClient(server, (c) =>
      c.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]),
    );
    found += rowCount ?? 0;
    await dropSlot(server, slot);
    await withClient(server, (c) => c.query(`DROP TABLE IF EXISTS ${markTable}`));
  }
  if (shards[0]) await forgetOrigin(shards[0], database);
  return found;
}
