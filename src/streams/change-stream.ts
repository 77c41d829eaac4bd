// A change stream of one primary: committed transactions read through logical replication (pgoutput, one
// slot), handed on in commit order, their position confirmed only once the handler is done with them.
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import type pg from 'pg';
import type { Logger } from '../logger.js';
import { addLiveStream, type StreamStatus } from './live-streams.js';
import { formatLsn, parseLsn } from './lsn.js';
import {
  beginTransaction,
  keepText,
  rowChanges,
  type RowChange,
  type StreamTransaction,
} from './row-changes.js';
import { clientConfig, tryLock, type ServerLogin } from './stream-lock.js';

export interface ChangeStreamOptions {
  readonly server: ServerLogin;
  /** Replication slot name: letters, digits and underscores (PostgreSQL's rule). */
  readonly slot: string;
  readonly publication: string;
  /**
   * Takes the tables (`schema.table`, lower-case) written by one or more committed transactions. The stream
   * confirms their position only after this resolved; when it throws it is called again with them.
   */
  readonly apply?: (tables: readonly string[]) => Promise<void>;
  /**
   * Takes the committed transactions with their rows, in commit order, like apply (confirmed once it resolved,
   * called again with the same transactions when it throws). With it, the stream keeps each transaction's rows
   * in memory until then.
   */
  readonly applyTransactions?: (transactions: readonly StreamTransaction[]) => Promise<void>;
  readonly log: Logger;
  /** What the stream feeds (`cache`, `publish`), as SHOW STREAMS lists it. */
  readonly consumer?: string;
  /** How often an idle instance tries the lock, and the pause before a new attempt after a failure. */
  readonly retryMs?: number;
  /** Told when this instance starts or stops consuming the stream. */
  readonly onConsuming?: (consuming: boolean) => void;
}

/** What the handler owes the stream: tables to apply, then a position to confirm. */
interface Pending {
  readonly tables: readonly string[];
  readonly transaction: StreamTransaction | null;
  /** The end of the last WAL this item covers (exclusive), or null when it moves nothing. */
  readonly end: bigint | null;
  /** The server asked for an answer (a keepalive with the reply flag). */
  readonly reply: boolean;
}

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

/** One replication connection: receives transactions, applies them in order, confirms what was applied. */
class ReplicationSession {
  private readonly service: LogicalReplicationService;
  private readonly queue: Pending[] = [];
  /** Tables of the transaction being received (between its Begin and Commit). */
  private open: Set<string> | null = null;
  /** Rows of the transaction being received, kept only for applyTransactions. */
  private rows: (StreamTransaction & { changes: RowChange[] }) | null = null;
  /** The furthest WAL position the server reported (commit ends and keepalives). */
  private serverEnd = 0n;
  /** Commit times (µs) of received transactions not yet confirmed, oldest first. */
  private readonly unconfirmed: { end: bigint; timeUs: bigint }[] = [];
  /** Everything before this position is applied; 0 until the first commit or keepalive. */
  private confirmed = 0n;
  private draining = false;
  private closed = false;
  private failed: ((error: Error) => void) | null = null;
  private markClosed!: () => void;
  private readonly closedSignal = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(private readonly opts: ChangeStreamOptions) {
    // Manual acknowledgement only, and no timer: the library's keepalive would confirm what was merely received.
    this.service = new LogicalReplicationService(
      { ...clientConfig(opts.server), replication: 'database' } as pg.ClientConfig,
      { acknowledge: { auto: false, timeoutSeconds: 0 } },
    );
    this.service.on('data', (lsn: string, message: Pgoutput.Message) => this.receive(message));
    this.service.on('heartbeat', (lsn: string, _time: number, reply: boolean) => {
      const end = parseLsn(lsn);
      if (end > this.serverEnd) this.serverEnd = end;
      this.push({ tables: [], transaction: null, end: this.open ? null : end, reply });
    });
    this.service.on('error', (error: Error) => this.failed?.(error));
    // close() may come while the connection is still being made: it must not start replicating after it.
    this.service.on('start', () => {
      if (this.closed) void this.service.stop().catch(() => {});
    });
  }

  /** Resolves or rejects when the replication connection ends. */
  async run(): Promise<void> {
    const failed = new Promise<never>((_, reject) => (this.failed = reject));
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [this.opts.publication] });
    if (this.closed) return;
    const subscribed = this.service.subscribe(plugin, this.opts.slot);
    // Its failure is reported through `failed`, or no longer matters once closed.
    subscribed.catch(() => {});
    await Promise.race([subscribed, failed, this.closedSignal]);
    if (!this.closed) throw new Error('replication connection closed');
  }

  /** Ends the replication connection; listeners stay, so a late error from it is still taken. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.markClosed();
    await this.service.stop().catch(() => {});
  }

  /** Lag as of now: what was received but not confirmed, and how old its first commit is. */
  progress(): { confirmed: string; lagBytes: number; lagSeconds: number } {
    const oldest = this.unconfirmed[0];
    const nowUs = BigInt(Date.now()) * 1000n;
    return {
      confirmed: formatLsn(this.confirmed),
      lagBytes:
        this.serverEnd > this.confirmed && this.confirmed > 0n ? Number(this.serverEnd - this.confirmed) : 0,
      lagSeconds: oldest && nowUs > oldest.timeUs ? Number(nowUs - oldest.timeUs) / 1e6 : 0,
    };
  }

  private receive(message: Pgoutput.Message): void {
    switch (message.tag) {
      case 'relation':
        keepText(message);
        break;
      case 'begin':
        this.open = new Set();
        if (this.opts.applyTransactions) this.rows = beginTransaction(message);
        break;
      case 'insert':
      case 'update':
      case 'delete':
        this.open?.add(tableName(message.relation));
        this.rows?.changes.push(...rowChanges(message));
        break;
      case 'truncate':
        for (const relation of message.relations) this.open?.add(tableName(relation));
        this.rows?.changes.push(...rowChanges(message));
        break;
      case 'commit':
        this.commit(message);
        break;
    }
  }

  private commit(message: Pgoutput.MessageCommit): void {
    const tables = [...(this.open ?? [])];
    const transaction = this.rows;
    this.open = null;
    this.rows = null;
    const end = message.commitEndLsn ? parseLsn(message.commitEndLsn) : null;
    if (end !== null) {
      if (end > this.serverEnd) this.serverEnd = end;
      this.unconfirmed.push({ end, timeUs: BigInt(message.commitTime as bigint) });
    }
    this.push({
      tables,
      transaction: transaction && transaction.changes.length > 0 ? transaction : null,
      end,
      reply: false,
    });
  }

  private push(item: Pending): void {
    this.queue.push(item);
    if (!this.draining) void this.drain();
  }

  /** Applies everything queued as one batch (one handler call), then confirms the batch's last position. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const batch = this.queue.splice(0, this.queue.length);
        const tables = [...new Set(batch.flatMap((item) => item.tables))];
        const transactions = batch.flatMap((item) => (item.transaction ? [item.transaction] : []));
        if (tables.length > 0 || transactions.length > 0) await this.applyUntilDone(tables, transactions);
        if (this.closed) return;
        let moved = false;
        for (const item of batch) {
          if (item.end !== null && item.end > this.confirmed) {
            this.confirmed = item.end;
            moved = true;
          }
        }
        while (this.unconfirmed.length > 0 && this.unconfirmed[0]!.end <= this.confirmed)
          this.unconfirmed.shift();
        // The library reports its argument + 1 as flushed; `confirmed` is already an end (last byte + 1).
        if ((moved || batch.some((item) => item.reply)) && this.confirmed > 0n)
          await this.service.acknowledge(formatLsn(this.confirmed - 1n));
      }
    } catch (error) {
      this.failed?.(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.draining = false;
    }
  }

  private async applyUntilDone(
    tables: readonly string[],
    transactions: readonly StreamTransaction[],
  ): Promise<void> {
    const { apply, applyTransactions } = this.opts;
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        if (apply && tables.length > 0) await apply(tables);
        if (applyTransactions && transactions.length > 0) await applyTransactions(transactions);
        return;
      } catch (error) {
        if (attempt === 1)
          this.opts.log.warn('change stream handler failed; retrying before confirming', {
            slot: this.opts.slot,
            error: messageOf(error),
          });
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * attempt)));
      }
    }
  }
}

const tableName = (relation: Pgoutput.MessageRelation) => `${relation.schema}.${relation.name}`.toLowerCase();
