// `RESHARD <db> TO <target>` in a running proxy: the phases (schema, copy, indexes, stream) in the background,
// then the cutover and the reverse stream; what SHOW RESHARD and the metrics read, CANCEL before the switch,
// and after it REVERT (a cutover back to the old shards) or FINISH (the reverse stream dropped).
import { stringify } from 'yaml';
import type { Database } from '../backend/database.js';
import type { DatabaseConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { cutOver, type CutoverOptions, type CutoverResult } from './cutover.js';
import { CutoverPeers } from './instances.js';
import { instanceName, participantOf } from './participant.js';
import { primariesOf } from './logins.js';
import { forgetLeft, recordLeft } from './state.js';
import { Reshard } from './reshard.js';
import { writeOrigin } from './origin.js';
import { ReverseStream } from './reverse.js';
import { noSharding } from '../backend/cluster.js';

/** switched: the new shards serve and the reverse stream runs, until REVERT (reverted) or FINISH (finished). */
export type JobStatus = 'running' | 'switched' | 'failed' | 'cancelled' | 'reverted' | 'finished';

/** The database's config once resharded to a named target (its shards, and its sharding when the target has one). */
export function targetConfig(db: DatabaseConfig, target: string): DatabaseConfig {
  const spec = db.reshard?.targets[target];
  if (!spec) throw new Error(`no reshard target "${target}" (databases.<db>.reshard.targets)`);
  const sharding = spec.sharding ?? db.sharding;
  if (!sharding)
    throw new Error(`reshard target "${target}" needs a sharding section: the database is not sharded`);
  return { ...db, shards: spec.shards, sharding };
}

export class ReshardJob {
  status: JobStatus = 'running';
  /** schema, copy, indexes, stream, cutover, reverse (switched), revert, reverted, finished, cancelled. */
  phase = 'schema';
  error: string | null = null;
  cutover: CutoverResult | null = null;
  /** The cutover back to the old shards, once REVERT ran it. */
  revertCutover: CutoverResult | null = null;
  readonly startedAt = Date.now();
  readonly reshard: Reshard;
  /** The old shards' config, which REVERT switches back to. */
  readonly from: DatabaseConfig;
  /** From the switch until FINISH or REVERT: the new shards' changes applied to the old ones. */
  reverse: ReverseStream | null = null;
  /** Settles when the job has switched, failed or been cancelled. */
  readonly done: Promise<void>;
  private cancelling = false;
  private closing = false;
  /** A REVERT or FINISH under way: the other waits. */
  private endingNow = false;

  constructor(
    readonly db: Database,
    readonly target: string,
    readonly next: DatabaseConfig,
    private readonly log: Logger,
  ) {
    const from = (this.from = db.config);
    this.reshard = new Reshard(
      {
        database: db.name,
        source: primariesOf(from),
        sourceDefaultShard: from.sharding?.default_shard ?? 0,
        target: primariesOf(next),
        targetSharding: next.sharding!,
      },
      log,
      (phase, message) => {
        if (phase !== 'verify' && phase !== 'cancel') this.phase = phase;
        log.info('reshard', { database: db.name, phase, message });
      },
    );
    this.done = this.run();
  }

  get rowsCopied(): number {
    return Object.values(this.reshard.copied).reduce((a, b) => a + b, 0);
  }

  /** Rows the running stream applied: the forward one before the switch, the reverse one after it. */
  get rowsStreamed(): number | null {
    if (this.status === 'running') return this.reshard.streamed;
    return this.reverse?.applied ?? null;
  }

  /** The running stream's rows applied and lag (forward before the switch, reverse after), or null. */
  lag(): Promise<{ applied: number; lagBytes: number[] }> | null {
    if (this.status === 'running') return this.reshard.lag();
    return this.reverse?.lag() ?? null;
  }

  /** The new cluster's entry under `databases:`, for the operator to put in the config file. */
  get configYaml(): string {
    const { shards, sharding } = this.status === 'reverted' ? this.from : this.next;
    return stringify({ databases: { [this.db.name]: { shards, sharding } } });
  }

  private cutoverOptions(): CutoverOptions {
    const config = this.db.config.reshard;
    const peers = new CutoverPeers(
      this.reshard.plan.source[0]!,
      this.db.name,
      participantOf(this.db)?.instance ?? instanceName,
      config?.heartbeat_timeout ?? 10_000,
    );
    return { pauseTimeoutMs: config?.pause_timeout ?? 5000, log: this.log, peers };
  }

  private async run(): Promise<void> {
    try {
      await this.reshard.start();
      this.checkCancelled();
      this.phase = 'cutover';
      const reverse = new ReverseStream(this.reshard.plan, this.from.sharding ?? noSharding, this.log);
      try {
        await reverse.prepare();
        // A proxy started on the new shards' config after the switch finds the old ones there (REVERT).
        await writeOrigin(primariesOf(this.next)[0]!, this.db.name, {
          shards: this.from.shards,
          sharding: this.from.sharding ?? noSharding,
        });
        // The reverse slots are made while statements are held, so they start where the new shards serve from.
        let recorded = false;
        this.cutover = await cutOver(this.db, this.reshard, this.next, {
          ...this.cutoverOptions(),
          // Recorded before statements resume on the new shards: a proxy restarted on the old config then
          // refuses the database (its writes would miss the new shards') even if this one is killed now.
          beforeSwitch: async (run) => {
            await reverse.create(run);
            await this.reshard.record('reverse', {}, run);
            recorded = true;
          },
        }).catch(async (error: unknown) => {
          if (recorded) await this.reshard.record('stream').catch(() => {});
          throw error;
        });
      } catch (error) {
        await reverse.drop().catch(() => {});
        throw error;
      }
      this.reverse = reverse;
      reverse.start();
      this.phase = 'reverse';
      const { pausedMs, checks, id, live, tail } = this.cutover;
      // The switch is done whatever the clean-up of the forward side meets; FINISH tries that again.
      await this.reshard
        .switched({ pausedMs, verification: checks, liveVerification: live, tail, cutover: id })
        .catch((error: Error) => this.log.warn('reshard clean-up failed', { err: error.message }));
      this.status = 'switched';
      this.log.info('reshard switched: RESHARD ... FINISH keeps the new shards, REVERT goes back', {
        database: this.db.name,
        config: this.configYaml,
      });
    } catch (error) {
      if (this.cancelling) return;
      this.status = 'failed';
      this.error = error instanceof Error ? error.message : String(error);
      this.log.warn('reshard failed; the old shards serve', { database: this.db.name, err: this.error });
      await this.reshard.stop().catch(() => {});
    }
  }

  private checkCancelled(): void {
    if (this.cancelling) throw new Error('cancelled');
    if (this.closing) throw new Error('the proxy closed');
  }

  /** The proxy closes: the streams stop, their slots keep the position (FINISH or REVERT, or a resume, later). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([this.reshard.stop(), this.reverse?.stop()]);
  }

  /** Before the switch: stops the phases and drops the slots and publications; the old shards serve as before. */
  async cancel(): Promise<void> {
    if (this.status === 'switched') throw new Error(this.switchedAlready());
    this.cancelling = true;
    await this.done;
    // The cutover may have run to its end meanwhile.
    if ((this.status as JobStatus) === 'switched') throw new Error(this.switchedAlready());
    await this.reshard.cancel();
    this.status = 'cancelled';
    this.phase = 'cancelled';
  }

  private switchedAlready(): string {
    const name = this.db.name;
    return `the reshard of "${name}" has switched over: RESHARD ${name} REVERT goes back to the old shards, RESHARD ${name} FINISH keeps the new ones`;
  }

  /** Runs REVERT or FINISH once the switch is done, one at a time. */
  private async ending<T>(what: string, work: (reverse: ReverseStream) => Promise<T>): Promise<T> {
    // Switched, and still dropping the forward slots: that ends soon. Before the switch CANCEL is the way back.
    if (this.status === 'running' && this.phase === 'reverse') await this.done;
    if (this.status === 'running')
      throw new Error(`the reshard of "${this.db.name}" has not switched yet: CANCEL stops it`);
    const reverse = this.reverse;
    if (!reverse || (this.status !== 'switched' && !(what === 'FINISH' && this.status === 'reverted')))
      throw new Error(`no switched reshard of "${this.db.name}" to ${what} (status ${this.status})`);
    if (this.endingNow) throw new Error(`a REVERT or FINISH of "${this.db.name}" is under way`);
    this.endingNow = true;
    try {
      return await work(reverse);
    } finally {
      this.endingNow = false;
    }
  }
  /**
   * A cutover back to the old shards, fed by the reverse stream; then the reverse slots, publications and
   * marker tables go. On failure the new shards keep serving and the reverse stream runs on.
   */
  revert(): Promise<CutoverResult> {
    return this.ending('REVERT', async (reverse) => {
      this.phase = 'revert';
      let recorded = false;
      try {
        // As at the switch: recorded before statements resume on the old shards.
        this.revertCutover = await cutOver(this.db, reverse, this.from, {
          ...this.cutoverOptions(),
          beforeSwitch: async (run) => {
            await this.reshard.record('reverted', {}, run);
            recorded = true;
            await recordLeft(primariesOf(this.next)[0]!, this.db.name);
          },
        });
      } catch (error) {
        if (recorded) {
          await this.reshard.record('reverse').catch(() => {});
          await forgetLeft(primariesOf(this.next)[0]!, this.db.name).catch(() => {});
        }
        this.phase = 'reverse';
        this.error = `REVERT failed: ${error instanceof Error ? error.message : String(error)}`;
        throw error;
      }
      [this.status, this.phase, this.error] = ['reverted', 'reverted', null];
      const { pausedMs, checks, id } = this.revertCutover;
      await this.reshard.record('reverted', {
        revertPausedMs: pausedMs,
        revertVerification: checks,
        cutover: id,
      });
      await this.dropEverything(reverse);
      this.log.info('reshard reverted: the old shards serve', { database: this.db.name, pausedMs });
      return this.revertCutover;
    });
  }

  /** Keeps the new shards: the reverse stream stops and its slots and publications go. */
  finish(): Promise<void> {
    return this.ending('FINISH', async (reverse) => {
      await this.dropEverything(reverse);
      if (this.status === 'switched') {
        await this.reshard.record('finished');
        [this.status, this.phase] = ['finished', 'finished'];
      }
      this.log.info('reshard finished: the old shards are no longer fed', { database: this.db.name });
    });
  }

  /** The reverse stream's slots, publications and marker tables, and whatever the forward one left. */
  private async dropEverything(reverse: ReverseStream): Promise<void> {
    await reverse.drop();
    await this.reshard.dropOldSide();
  }
}

const jobs = new Set<ReshardJob>();

/** Stops the streams of the reshards of `databases` (a proxy closing); the jobs are forgotten. */
export async function closeReshards(databases: Iterable<Database>): Promise<void> {
  const closing = new Set(databases);
  const mine = [...jobs].filter((job) => closing.has(job.db));
  for (const job of mine) jobs.delete(job);
  await Promise.all(mine.map((job) => job.close()));
}

/** Every reshard job of this process, the finished ones included (SHOW RESHARD, metrics). */
export const liveReshards = (): Iterable<ReshardJob> => jobs.values();

/** Starts a reshard of `db` to a named target; refused while another runs for the same database. */
export function startReshard(db: Database, target: string, log: Logger): ReshardJob {
  // A session-pooled client of one shard holds its server for good: the cutover could never drain it.
  if (!db.cluster.sharded && db.mode === 'session')
    throw new Error(
      `database "${db.name}" is one shard under session pooling: its clients cannot switch in place (use \`polyproxy reshard\`, then a reload)`,
    );
  for (const job of jobs) {
    if (job.db.name !== db.name) continue;
    if (job.db === db && job.status === 'running') throw new Error(`a reshard of "${db.name}" is running`);
    if (job.db === db && job.status === 'switched')
      throw new Error(
        `the reshard of "${db.name}" to "${job.target}" keeps its reverse stream: RESHARD ${db.name} FINISH or REVERT first`,
      );
    jobs.delete(job);
  }
  const job = new ReshardJob(db, target, targetConfig(db.config, target), log);
  jobs.add(job);
  return job;
}

/** The latest reshard job of a database served by this proxy, if any. */
export function reshardOf(db: Database): ReshardJob | undefined {
  let found: ReshardJob | undefined;
  for (const job of jobs) if (job.db === db) found = job;
  return found;
}
