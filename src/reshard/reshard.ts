// A reshard of one database, phase by phase, resumable from the state on the first old primary: schema, copy
// in the slots' snapshots, indexes and sequences, then the streams; verification on demand; cancel.
import type { Logger } from '../logger.js';
import type { ShardMap } from '../router/sharding/shard-map.js';
import { withClient, type Runner } from './connect.js';
import { copyAll, createSnapshotSlot, dropSlot, markTable, type SnapshotSlot } from './copy.js';
import { slotName, targetMap, type ReshardPlan, type TableFacts } from './plan.js';
import { applyDdl, copySequences, dumpSection } from './schema.js';
import { endedPhases, StateStore, type Phase } from './state.js';
import { ReshardStreams } from './stream.js';
import { loadTables } from './tables.js';
import type { TouchedKeys } from './touched.js';
import { verify, type TableCheck } from './verify.js';

/** What the command prints: a phase started or moved on. */
export type ReshardProgress = (phase: Phase | 'verify' | 'cancel', message: string) => void;

export class Reshard {
  readonly map: ShardMap;
  private readonly store: StateStore;
  private streams: ReshardStreams | null = null;
  private tables: TableFacts[] = [];
  /** Rows copied per table so far (phase b), for SHOW RESHARD and metrics. */
  readonly copied: Record<string, number> = {};

  constructor(
    readonly plan: ReshardPlan,
    private readonly log: Logger,
    private readonly progress: ReshardProgress = () => {},
  ) {
    this.map = targetMap(plan);
    this.store = new StateStore(plan.source[0]!, plan.database);
  }

  /** Runs (or resumes) every phase up to the streams, which keep running until cancel() or stop(). */
  async start(): Promise<void> {
    const state = await this.store.read();
    // A reshard that ended (cancelled, or switched over) leaves nothing to resume: a new one starts afresh.
    const ended = !!state && endedPhases.includes(state.phase);
    if (ended) await this.store.forget();
    let phase: Phase = state && !ended ? state.phase : 'schema';
    this.tables = await loadTables(this.plan.source[0]!, this.map);
    // The new shards may be an earlier reshard's old ones: the state they keep from it no longer applies.
    if (phase === 'schema') await new StateStore(this.plan.target[0]!, this.plan.database).forgetIfKept();
    if (phase === 'schema') phase = await this.schema();
    if (phase === 'copy') phase = await this.copy();
    if (phase === 'indexes') await this.indexes();
    this.streams = new ReshardStreams(this.plan, this.map, this.tables, this.log);
    this.streams.start();
    this.progress('stream', `streaming changes from ${this.plan.source.length} old primaries`);
  }

  private async schema(): Promise<Phase> {
    const ddl = await dumpSection(this.plan.source[0]!, 'pre-data');
    for (const [i, server] of this.plan.target.entries()) {
      if ((await loadTables(server, this.map).catch(() => [])).length > 0) continue;
      await applyDdl(server, ddl);
      this.progress('schema', `tables and sequences made on new shard ${i}`);
    }
    await this.store.write('copy');
    return 'copy';
  }

  private async copy(): Promise<Phase> {
    // A copy that was interrupted starts again from nothing: its snapshot died with the command.
    await this.dropSlots();
    await this.truncateTargets();
    const slots: SnapshotSlot[] = [];
    try {
      for (const [i, server] of this.plan.source.entries())
        slots.push(await createSnapshotSlot(server, slotName(this.plan.database, i), this.tables));
      const started = Date.now();
      const counts = await copyAll(this.plan, this.map, this.tables, slots, (table, rows) => {
        this.copied[table] = rows;
        this.progress('copy', `${table}: ${rows} rows`);
      });
      const rows = Object.values(counts).reduce((a, b) => a + b, 0);
      const seconds = (Date.now() - started) / 1000;
      this.progress('copy', `${rows} rows in ${seconds.toFixed(1)} s`);
      await this.store.write('indexes', { copied: counts, copySeconds: seconds });
    } finally {
      await Promise.all(slots.map((s) => s.holder.end().catch(() => {})));
    }
    return 'indexes';
  }

  private async indexes(): Promise<Phase> {
    const ddl = await dumpSection(this.plan.source[0]!, 'post-data');
    for (const [i, server] of this.plan.target.entries()) {
      const done = await withClient(server, (c) =>
        c.query(
          "SELECT 1 FROM pg_constraint WHERE contype = 'p' AND connamespace <> 'pg_catalog'::regnamespace",
        ),
      );
      if ((done.rowCount ?? 0) === 0) await applyDdl(server, ddl);
      this.progress('indexes', `keys and indexes made on new shard ${i}`);
    }
    const sequences = await copySequences(this.plan.source, this.plan.target);
    this.progress('indexes', `${sequences} sequences set`);
    await this.store.write('stream');
    return 'stream';
  }

  /** Rows the streams wrote to the new shards so far (0 before they start). */
  get streamed(): number {
    return this.streams?.applied ?? 0;
  }

  /** Rows applied by the streams and the WAL bytes each old primary's slot still has to confirm. */
  async lag(): Promise<{ applied: number; lagBytes: number[] }> {
    if (!this.streams) throw new Error('the reshard streams are not running');
    return { applied: this.streams.applied, lagBytes: await this.streams.lagBytes() };
  }

  /** Waits until the new shards have what the old primaries committed so far. */
  async catchUp(timeoutMs: number, run?: Runner): Promise<void> {
    if (!this.streams) throw new Error('the reshard streams are not running');
    await this.streams.catchUp(timeoutMs, run);
  }

  /** The tables the cutover compares, and the keys the running streams record for its tail. */
  verification(): { tables: readonly TableFacts[]; touched: TouchedKeys } {
    if (!this.streams) throw new Error('the reshard streams are not running');
    return { tables: this.tables, touched: this.streams.touched };
  }

  /** Waits until the new shards have what the old primaries committed so far, then compares both sides. */
  async verify(timeoutMs = 60_000): Promise<TableCheck[]> {
    await this.catchUp(timeoutMs);
    const checks = await verify(this.plan, this.tables);
    const differing = checks.filter((c) => !c.equal);
    for (const c of differing) this.progress('verify', `${c.table} differs: ${c.problem}`);
    this.progress('verify', differing.length === 0 ? `${checks.length} tables equal` : 'not equal');
    await this.store.write(differing.length === 0 ? 'verified' : 'stream', { verification: checks });
    return checks;
  }

  /**
   * After the cutover: the new shards serve, the reverse stream runs; the forward streams stop and their slots,
   * publications and marker tables go.
   */
  async switched(detail: Record<string, unknown>): Promise<void> {
    await this.store.write('reverse', detail);
    await this.stop();
    await this.dropOldSide();
  }

  /** Records a phase after the switch (reverted, finished) with its facts. */
  record(phase: Phase, detail: Record<string, unknown> = {}, using?: Runner): Promise<void> {
    return this.store.write(phase, detail, using);
  }

  /** The forward slots, publications and marker tables on the old primaries, wherever they are left. */
  async dropOldSide(): Promise<void> {
    await this.dropSlots();
    for (const server of this.plan.source)
      await withClient(server, (c) => c.query(`DROP TABLE IF EXISTS ${markTable}`));
  }

  /** Stops the streams; their slots keep the position, so start() resumes from there. */
  async stop(): Promise<void> {
    await this.streams?.stop();
    this.streams = null;
  }

  /** Stops, drops the slots, publications and marker tables: the old shards are as before the reshard. */
  async cancel(): Promise<void> {
    await this.stop();
    await this.dropOldSide();
    await this.store.write('cancelled');
    this.progress('cancel', 'slots and publications dropped; the old shards serve as before');
  }

  private async dropSlots(): Promise<void> {
    for (const [i, server] of this.plan.source.entries())
      await dropSlot(server, slotName(this.plan.database, i));
  }

  private async truncateTargets(): Promise<void> {
    if (this.tables.length === 0) return;
    const list = this.tables.map((t) => t.sql).join(', ');
    for (const server of this.plan.target) await withClient(server, (c) => c.query(`TRUNCATE ${list}`));
  }
}
