// Replies held back at the end of a transaction that wrote, until what must know of the commit does: the
// plugins' commit hooks (a cache) and, with a shared read-your-writes scope, the other proxy instances.
import type { Database } from '../backend/database.js';
import type { ServerConnection } from '../backend/server-connection.js';
import type { PluginHost } from '../plugins/host.js';
import { TxStatus } from '../protocol/codes.js';
import type { StatementInfo } from '../router/classify.js';
import type { SessionPositions } from './session-positions.js';

/** What holding replies needs of its client session. */
export interface HoldingSession {
  readonly db: Database;
  readonly closed: boolean;
  readonly server: ServerConnection | null;
  readonly positions: SessionPositions;
  readonly plugins: PluginHost | null;
  readonly queue: readonly unknown[];
  /** Writes to the client. */
  write(bytes: Buffer): void;
  maybeRelease(): void;
  pump(): void;
}

export class CommitHold {
  /** The commit's acknowledgement waits for the hooks or the shared position: later messages wait too. */
  committing = false;
  /** Tables written in the current transaction, for the commit hooks. */
  private written: Set<string> | null = null;
  /** The transaction with writes ends in ROLLBACK (asked for, or a COMMIT of a failed block): nothing to announce. */
  private rollingBack = false;
  /** Replies held back until the commit hooks have run, so no client sees a commit before they do. */
  private held: Buffer[] | null = null;

  constructor(private readonly s: HoldingSession) {}

  /** A statement about to run: a write starts holding replies when something must learn of its commit. */
  see(info: StatementInfo, txStatus: number): void {
    const s = this.s;
    if (
      info.access === 'write' &&
      s.positions.scope !== null &&
      s.db.sharedPositions &&
      s.db.shard.hasReplicas
    ) {
      // The commit is acknowledged only once other instances know its position (see release).
      s.positions.sharePending = true;
      this.held ??= [];
    }
    if (info.access === 'write' && s.plugins?.hasCommitHooks) {
      const written = (this.written ??= new Set());
      for (const table of info.objects?.writes ?? ['*']) written.add(table);
      this.held ??= [];
    }
    if (this.written && info.transaction && !info.transaction.chain) {
      const kind = info.transaction.kind;
      this.rollingBack = kind === 'rollback' || (kind === 'commit' && txStatus === TxStatus.Failed);
    }
  }

  /** Keeps a reply chunk while replies are held; false when they are not. */
  keep(chunk: Buffer): boolean {
    if (!this.held) return false;
    // The chunk lies in the server's reused read buffer: keep a copy.
    this.held.push(Buffer.from(chunk));
    return true;
  }

  /** The server is ready again: held replies go out, after the commit's listeners when a write committed. */
  onReady(status: number): void {
    if (this.held) this.release(status);
  }

  /**
   * Writes the held replies, after the commit hooks when a transaction with writes just ended: a client
   * that sees its commit acknowledged can count on every plugin (such as a cache) knowing of it.
   */
  private release(status: number): void {
    const s = this.s;
    if (status === TxStatus.Idle && s.positions.sharePending && s.server) {
      s.positions.sharePending = false;
      this.committing = true;
      void s.positions.share(s.server).then(() => {
        this.committing = false;
        if (s.closed) return;
        if (this.held) this.release(status);
        s.maybeRelease();
        if (s.queue.length > 0) s.pump();
      });
      return;
    }
    const written = this.written;
    if (status === TxStatus.Idle && this.rollingBack) {
      this.written = null;
      this.rollingBack = false;
    }
    if (status !== TxStatus.Idle || !this.written || written!.size === 0) {
      s.write(Buffer.concat(this.held!));
      this.held = status === TxStatus.Idle ? null : [];
      return;
    }
    this.written = null;
    this.committing = true;
    void s.plugins!.runCommit({ database: s.db.name, tables: [...written!] }).then(() => {
      this.committing = false;
      const held = this.held;
      this.held = null;
      if (s.closed) return;
      if (held && held.length > 0) s.write(Buffer.concat(held));
      if (s.queue.length > 0) s.pump();
    });
  }
}
