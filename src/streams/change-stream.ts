// A change stream of one primary: committed transactions read through logical replication (pgoutput, one
// slot), handed on in commit order, their position confirmed only once the handler is done with them.
import type pg from 'pg';
import { addLiveStream, type StreamStatus } from './live-streams.js';
import { ReplicationSession } from './replication-session.js';
import { tryLock } from './stream-lock.js';
import type { ChangeStreamOptions } from './stream-options.js';

export type { ChangeStreamOptions } from './stream-options.js';

const identifier = /^[a-z0-9_]{1,63}$/;
const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Only one instance consumes a stream: the one that holds the primary's advisory lock for the slot; the
 * others try again every retryMs, so one takes over within about that long after the holder dies.
 */
export class ChangeStream {
  private stopped = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private session: ReplicationSession | null = null;
  private unlist: (() => void) | null = null;
  /** The most changes that waited in memory at once in an earlier session of this instance. */
  private peak = 0;

  constructor(private readonly opts: ChangeStreamOptions) {
    if (!identifier.test(opts.slot)) throw new Error(`invalid replication slot name ${opts.slot}`);
  }

  start(): void {
    this.unlist ??= addLiveStream({ consumer: this.opts.consumer ?? 'stream', status: () => this.status() });
    this.running ??= this.loop();
  }

  /** Where this instance stands on the stream, for lag metrics and SHOW STREAMS. */
  status(): StreamStatus {
    const server = `${this.opts.server.host}:${this.opts.server.port}`;
    const session = this.session?.progress();
    return {
      slot: this.opts.slot,
      server,
      database: this.opts.server.database,
      consuming: !!session,
      ...session,
      queuedPeak: Math.max(this.peak, session?.queuedPeak ?? 0),
    };
  }

  /** Stops consuming; a transaction whose position was not confirmed yet comes again to the next consumer. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unlist?.();
    this.wake?.();
    await this.session?.close();
    await this.running;
  }

  private async loop(): Promise<void> {
    const retryMs = this.opts.retryMs ?? 1000;
    let lastProblem: string | null = null;
    while (!this.stopped) {
      try {
        await this.consumeWhileLocked();
        lastProblem = null;
      } catch (error) {
        // A server that stays down (or a login without REPLICATION) fails every attempt: say so once.
        const problem = messageOf(error);
        if (!this.stopped && problem !== lastProblem)
          this.opts.log.warn('change stream interrupted; trying again every retry interval', {
            slot: this.opts.slot,
            server: `${this.opts.server.host}:${this.opts.server.port}`,
            error: problem,
          });
        lastProblem = problem;
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  private async consumeWhileLocked(): Promise<void> {
    const { server, slot, publication } = this.opts;
    const lock = await tryLock(server, `${server.database} ${slot}`);
    if (!lock) return;
    try {
      await ensureSlot(lock.client, slot, publication);
      if (this.stopped) return;
      this.opts.log.info('consuming change stream', { slot, server: `${server.host}:${server.port}` });
      this.opts.onConsuming?.(true);
      this.session = new ReplicationSession(this.opts);
      await Promise.race([this.session.run(), lock.lost.then(() => Promise.reject(new Error('lock lost')))]);
    } finally {
      this.opts.onConsuming?.(false);
      await this.session?.close();
      this.peak = Math.max(this.peak, this.session?.progress().queuedPeak ?? 0);
      this.session = null;
      await lock.release();
    }
  }
}

/** The publication (all tables) and the slot, made by the first consumer when the operator did not make them. */
async function ensureSlot(client: pg.Client, slot: string, publication: string): Promise<void> {
  const pub = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication]);
  if (pub.rowCount === 0) await client.query(`CREATE PUBLICATION ${quoteIdent(publication)} FOR ALL TABLES`);
  const found = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  if (found.rowCount === 0)
    await client.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
}
