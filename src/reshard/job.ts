// `RESHARD <db> TO <target>` in a running proxy: the phases (schema, copy, indexes, stream) in the background,
// then the cutover; what SHOW RESHARD and the metrics read, and CANCEL before the switch.
import { stringify } from 'yaml';
import type { Database } from '../backend/database.js';
import type { DatabaseConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { cutOver, type CutoverResult } from './cutover.js';
import { CutoverPeers } from './instances.js';
import { instanceName, participantOf } from './participant.js';
import { primariesOf } from './logins.js';
import { Reshard } from './reshard.js';

export type JobStatus = 'running' | 'switched' | 'failed' | 'cancelled';

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
  /** The phase the reshard is in: schema, copy, indexes, stream, cutover, switched. */
  phase = 'schema';
  error: string | null = null;
  cutover: CutoverResult | null = null;
  readonly startedAt = Date.now();
  readonly reshard: Reshard;
  /** Settles when the job has switched, failed or been cancelled. */
  readonly done: Promise<void>;
  private cancelling = false;

  constructor(
    readonly db: Database,
    readonly target: string,
    readonly next: DatabaseConfig,
    private readonly log: Logger,
  ) {
    const from = db.config;
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

  /** The new cluster's entry under `databases:`, for the operator to put in the config file. */
  get configYaml(): string {
    const { shards, sharding } = this.next;
    return stringify({ databases: { [this.db.name]: { shards, sharding } } });
  }

  private async run(): Promise<void> {
    try {
      await this.reshard.start();
      this.checkCancelled();
      this.phase = 'cutover';
      const pauseTimeout = this.db.config.reshard?.pause_timeout ?? 5000;
      const peers = new CutoverPeers(
        this.reshard.plan.source[0]!,
        this.db.name,
        participantOf(this.db)?.instance ?? instanceName,
        this.db.config.reshard?.heartbeat_timeout ?? 10_000,
      );
      this.cutover = await cutOver(this.db, this.reshard, this.next, pauseTimeout, this.log, peers);
      await this.reshard.switched({ pausedMs: this.cutover.pausedMs, verification: this.cutover.checks });
      this.phase = 'switched';
      this.status = 'switched';
      this.log.info('reshard done: put the new shards in the config file before the next reload', {
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
  }

  /** Before the switch: stops the phases and drops the slots and publications; the old shards serve as before. */
  async cancel(): Promise<void> {
    if (this.status === 'switched') throw new Error('the reshard has switched over already');
    this.cancelling = true;
    await this.done;
    // The cutover may have run to its end meanwhile.
    if ((this.status as JobStatus) === 'switched')
      throw new Error('the reshard switched over before it could be cancelled');
    await this.reshard.cancel();
    this.status = 'cancelled';
    this.phase = 'cancelled';
  }
}

const jobs = new Set<ReshardJob>();

/** Every reshard job of this process, the finished ones included (SHOW RESHARD, metrics). */
export const liveReshards = (): Iterable<ReshardJob> => jobs.values();

/** Starts a reshard of `db` to a named target; refused while another runs for the same database. */
export function startReshard(db: Database, target: string, log: Logger): ReshardJob {
  if (!db.cluster)
    throw new Error(
      `database "${db.name}" is not sharded: its clients cannot switch in place (use \`polyproxy reshard\`, then a reload)`,
    );
  for (const job of jobs) {
    if (job.db.name !== db.name) continue;
    if (job.db === db && job.status === 'running') throw new Error(`a reshard of "${db.name}" is running`);
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
