// One replication connection of a change stream: receives committed transactions, hands them on (in order one call
// at a time, or pipelined to a sink), confirms what was handled, and stops reading while too much waits.
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import type pg from 'pg';
import type { ChangeStreamOptions } from './stream-options.js';
import { formatLsn, parseLsn } from './lsn.js';
import { Pipeline } from './pipeline.js';
import {
  beginTransaction,
  keepText,
  rowChanges,
  type RowChange,
  type StreamTransaction,
} from './row-changes.js';
import { clientConfig } from './stream-lock.js';

/** What the handler owes the stream: tables to apply, then a position to confirm (one call at a time). */
interface Pending {
  readonly tables: readonly string[];
  readonly transaction: StreamTransaction | null;
  /** The end of the last WAL this item covers (exclusive), or null when it moves nothing. */
  readonly end: bigint | null;
  /** The server asked for an answer (a keepalive with the reply flag). */
  readonly reply: boolean;
  /** Changes the item's transaction made (counted whether or not its rows are kept). */
  readonly changes: number;
}

type Part = StreamTransaction & { changes: RowChange[] };

/** The default bound of changes received and not yet handled. */
export const defaultWindow = 10_000;
/** The server ends a replication connection that says nothing for wal_sender_timeout (60 s by default). */
const statusIntervalMs = 10_000;
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const tableName = (relation: Pgoutput.MessageRelation) => `${relation.schema}.${relation.name}`.toLowerCase();

/** The socket under the library's connection: pausing it stops reading, so the slot keeps the WAL instead. */
type Pausable = { _connection?: { stream?: { pause(): void; resume(): void } } | null };

export class ReplicationSession {
  private readonly service: LogicalReplicationService;
  private readonly queue: Pending[] = [];
  private readonly pipeline: Pipeline | null;
  private readonly window: number;
  /** Changes a large transaction hands on at a time in pipelined mode, before its commit arrives. */
  private readonly partSize: number;
  /** Tables of the transaction being received (between its Begin and Commit). */
  private open: Set<string> | null = null;
  /** Rows of the transaction being received (its current part), kept only when the consumer takes rows. */
  private rows: Part | null = null;
  /** Changes of the transaction being received. */
  private openChanges = 0;
  /** The furthest WAL position the server reported (commit ends and keepalives). */
  private serverEnd = 0n;
  /** Commit times (µs) of received transactions not yet confirmed, oldest first. */
  private readonly unconfirmed: { end: bigint; timeUs: bigint }[] = [];
  /** Everything before this position is applied; 0 until the first commit or keepalive. */
  private confirmed = 0n;
  /** Changes received and not yet handled, and the most there were at once. */
  private held = 0;
  private peak = 0;
  private paused = false;
  private draining = false;
  private closed = false;
  private readonly statusTimer: NodeJS.Timeout;
  private failed: ((error: Error) => void) | null = null;
  private markClosed!: () => void;
  private readonly closedSignal = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(private readonly opts: ChangeStreamOptions) {
    this.window = opts.window ?? defaultWindow;
    this.partSize = Math.max(1, Math.min(1000, Math.floor(this.window / 4)));
    // Manual acknowledgement only, and no timer: the library's keepalive would confirm what was merely received.
    this.service = new LogicalReplicationService(
      { ...clientConfig(opts.server), replication: 'database' } as pg.ClientConfig,
      { acknowledge: { auto: false, timeoutSeconds: 0 } },
    );
    this.pipeline = opts.sink
      ? new Pipeline(opts.sink(), {
          confirm: (end) => this.confirm(end, false),
          released: (changes) => this.release(changes),
          failed: (error) => this.failed?.(error),
        })
      : null;
    this.service.on('data', (lsn: string, message: Pgoutput.Message) => this.receive(message));
    this.service.on('heartbeat', (lsn: string, _time: number, reply: boolean) => this.keepalive(lsn, reply));
    this.service.on('error', (error: Error) => this.failed?.(error));
    // close() may come while the connection is still being made: it must not start replicating after it.
    this.service.on('start', () => {
      if (this.closed) void this.service.stop().catch(() => {});
    });
    // While reading is paused no keepalive is read or answered: say where we stand anyway.
    this.statusTimer = setInterval(() => this.acknowledge(), statusIntervalMs);
    this.statusTimer.unref();
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

  /** Ends the replication connection once what was sent settled; listeners stay, so a late error is still taken. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.statusTimer);
    this.markClosed();
    await this.service.stop().catch(() => {});
    await this.pipeline?.stop();
  }

  /** Lag as of now: what was received but not confirmed, how old its first commit is, and what waits in memory. */
  progress(): {
    confirmed: string;
    lagBytes: number;
    lagSeconds: number;
    queued: number;
    queuedPeak: number;
  } {
    const oldest = this.unconfirmed[0];
    const nowUs = BigInt(Date.now()) * 1000n;
    return {
      confirmed: formatLsn(this.confirmed),
      lagBytes:
        this.serverEnd > this.confirmed && this.confirmed > 0n ? Number(this.serverEnd - this.confirmed) : 0,
      lagSeconds: oldest && nowUs > oldest.timeUs ? Number(nowUs - oldest.timeUs) / 1e6 : 0,
      queued: this.held,
      queuedPeak: this.peak,
    };
  }

  private receive(message: Pgoutput.Message): void {
    switch (message.tag) {
      case 'relation':
        keepText(message);
        break;
      case 'begin':
        this.open = new Set();
        this.openChanges = 0;
        if (this.opts.applyTransactions || this.pipeline) this.rows = beginTransaction(message);
        break;
      case 'insert':
      case 'update':
      case 'delete':
        this.open?.add(tableName(message.relation));
        this.take(rowChanges(message));
        break;
      case 'truncate':
        for (const relation of message.relations) this.open?.add(tableName(relation));
        this.take(rowChanges(message));
        break;
      case 'commit':
        this.commit(message);
        break;
    }
  }

  private take(changes: RowChange[]): void {
    this.held += changes.length;
    this.openChanges += changes.length;
    if (this.held > this.peak) this.peak = this.held;
    this.rows?.changes.push(...changes);
    // Pipelined, a transaction is committed once it arrives (protocol 1): its parts may go before its commit.
    if (this.pipeline && this.rows && this.rows.changes.length >= this.partSize) {
      const part = this.rows;
      this.rows = { ...part, offset: (part.offset ?? 0) + part.changes.length, changes: [] };
      this.pipeline.add(part, null);
      this.pipeline.flush();
    }
    // Pipelined, reading pauses once the window is full; one call at a time only at a commit (see commit()),
    // since a transaction is handed on whole there.
    if (this.pipeline && this.held >= this.window) this.pause();
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
    const rows = transaction && transaction.changes.length > 0 ? transaction : null;
    if (this.pipeline) this.pipeline.add(rows, end);
    else this.push({ tables, transaction: rows, end, reply: false, changes: this.openChanges });
    if (this.held >= this.window) this.pause();
  }

  private keepalive(lsn: string, reply: boolean): void {
    const end = parseLsn(lsn);
    if (end > this.serverEnd) this.serverEnd = end;
    if (!this.pipeline) {
      this.push({ tables: [], transaction: null, end: this.open ? null : end, reply, changes: 0 });
      return;
    }
    if (!this.open) this.pipeline.add(null, end);
    if (reply) this.acknowledge();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    (this.service as unknown as Pausable)._connection?.stream?.pause();
  }

  /** Handled changes leave memory; reading goes on once half the window is free again. */
  private release(changes: number): void {
    this.held -= changes;
    if (this.paused && this.held <= this.window / 2) {
      this.paused = false;
      (this.service as unknown as Pausable)._connection?.stream?.resume();
    }
  }

  private confirm(end: bigint, reply: boolean): void {
    const moved = end > this.confirmed;
    if (moved) this.confirmed = end;
    while (this.unconfirmed.length > 0 && this.unconfirmed[0]!.end <= this.confirmed)
      this.unconfirmed.shift();
    if (moved || reply) this.acknowledge();
  }

  /** Tells the server what is confirmed. The library reports its argument + 1; `confirmed` is already an end. */
  private acknowledge(): void {
    if (this.closed || this.confirmed === 0n) return;
    this.service.acknowledge(formatLsn(this.confirmed - 1n)).catch((error: unknown) => {
      this.failed?.(error instanceof Error ? error : new Error(String(error)));
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
        const changes = batch.reduce((sum, item) => sum + item.changes, 0);
        if (tables.length > 0 || transactions.length > 0) await this.applyUntilDone(tables, transactions);
        if (this.closed) return;
        this.release(changes);
        let end = this.confirmed;
        for (const item of batch) if (item.end !== null && item.end > end) end = item.end;
        this.confirm(
          end,
          batch.some((item) => item.reply),
        );
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
