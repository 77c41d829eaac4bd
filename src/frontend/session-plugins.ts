// The plugins' turn in a client session: statements they claim, cached answers, and work joined to a transaction.
import type { Database } from '../backend/database.js';
import type { ServerConnection } from '../backend/server-connection.js';
import { errorCodes } from '../errors.js';
import type { Logger } from '../logger.js';
import { statementFields } from '../logger.js';
import type { StatementDone } from '../metrics/statement-metrics.js';
import type { EncodedResult, SessionView, TransactionParticipant } from '../plugins/api.js';
import type { PluginHost } from '../plugins/host.js';
import { messageOf } from '../plugins/host.js';
import * as be from '../protocol/backend-messages.js';
import { Frontend, TxStatus } from '../protocol/codes.js';
import { readParse } from '../protocol/extended-messages.js';
import type { StatementInfo } from '../router/classify.js';
import { answerRound, answersRound, cacheableStatement, mayBeCached, roundLength } from './cache-round.js';
import { finishParticipants } from './plugin-participants.js';
import { PluginStatements, type ClientError } from './plugin-statements.js';
import { ReplyCapture } from './reply-capture.js';
import type { StatementForwarding } from './statement-forwarding.js';
import type { TransactionAccess } from './transaction-access.js';

/** A client message kept for later: copied, because the read buffer it came in is reused. */
export interface Queued {
  type: number;
  buf: Buffer;
  info: StatementInfo | null;
}

/** What the plugins' step needs of its client session. */
export interface PluginSessionHost {
  readonly db: Database;
  readonly user: string;
  readonly closed: boolean;
  readonly server: ServerConnection | null;
  txStatus: number;
  inBlock: boolean;
  readonly committing: boolean;
  readonly queue: Queued[];
  readonly settings: Map<string, string>;
  readonly access: TransactionAccess;
  readonly fwd: StatementForwarding;
  readonly stats: { queries: number };
  roundStart: number;
  startRound(info: StatementInfo): void;
  endRound(route: StatementDone['route']): void;
  forward(type: number, buf: Buffer, start: number, end: number, info: StatementInfo | null): void;
  /** Writes to the client. */
  write(bytes: Buffer): void;
  pump(): void;
  maybeRelease(): void;
  adoptCachedRound(round: readonly Queued[]): void;
}

export class SessionPlugins {
  /** A plugin call or a cache lookup is under way: later messages wait. */
  busy = false;
  /** A plugin's message of the current extended round was answered here, so its Sync may be too. */
  localRound = false;
  /** A plugin statement failed: drop messages up to Sync, as PostgreSQL does after an error. */
  skipToSync = false;
  /** Queued messages already looked at by the cache hooks, to forward as they are. */
  cleared = 0;
  /** Collects the reply of a read for the plugins that asked for it. */
  private capture: { reply: ReplyCapture; captures: ((r: EncodedResult) => void)[] } | null = null;
  /** Plugin work joined to the client's transaction block. */
  private participants: TransactionParticipant[] = [];
  /** The client's statements and portals that plugins answer (created on first use). */
  private statements: PluginStatements | null = null;
  private viewObject: SessionView | null = null;
  /** Replies to an extended round's plugin messages, held until its Sync or Flush (as PostgreSQL holds its output). */
  private held: Buffer[] = [];

  constructor(
    private readonly s: PluginSessionHost,
    private readonly plugins: PluginHost,
    private readonly log: Logger,
  ) {}

  /** A Parse or Bind of the unnamed statement replaces the plugins' unnamed statement too. */
  forgetUnnamed(type: number): void {
    this.statements?.forgetUnnamed(type);
  }

  /** A server reply, for a plugin that asked to see the result of a read. */
  feed(chunk: Buffer): void {
    if (this.capture) this.capture.reply.feed(chunk);
  }

  /** The server is ready for the next query: captured results go to the plugins, an ended block's work is let go. */
  onReady(status: number): void {
    if (this.capture) {
      const result = this.capture.reply.result();
      if (result) this.plugins.deliver(this.capture.captures, result);
      this.capture = null;
    }
    if (status === TxStatus.Idle && !this.s.inBlock && this.participants.length > 0) {
      // The block ended without a COMMIT or ROLLBACK the proxy saw (e.g. inside a function): nothing may stay open.
      this.abandon();
    }
  }

  /** Rolls back the plugins' work joined to a block that will not commit (the client left, or the block ended unseen). */
  abandon(): void {
    if (this.participants.length > 0) void finishParticipants(this.participants.splice(0), false, this.log);
  }

  /** EXPLAIN ROUTE's text for a statement a plugin claims; later messages wait for it. */
  explain(sql: string, info: StatementInfo, done: (text: string) => void): void {
    this.release();
    this.busy = true;
    const statements = (this.statements ??= new PluginStatements(this.plugins, this.log));
    void statements
      .explain(sql, info, this.sessionView())
      .catch((err: unknown) => `error: ${toClientError(err).message}`)
      .then((text) => {
        this.busy = false;
        if (!this.s.closed) done(text);
      });
  }

  /** Whether a message must wait for the plugins' slow path instead of going straight to the server. */
  needs(type: number, buf: Buffer, start: number, end: number, info: StatementInfo | null): boolean {
    const plugins = this.plugins;
    if (this.busy || this.s.committing || this.localRound || this.skipToSync) return true;
    if (
      plugins.hasClaims &&
      (this.statements ??= new PluginStatements(plugins, this.log)).owns(type, buf, start, end, info)
    )
      return true;
    if (plugins.hasBeforeHooks && !this.s.inBlock && mayBeCached(info)) return true;
    return this.participants.length > 0 && info?.transaction !== undefined;
  }

  /**
   * The plugins' turn at the message heading the queue: answer it, wait for more, or let it go on to
   * PostgreSQL ('forward'). 'again' means the message was dealt with and the next one may follow.
   */
  step(m: Queued): 'forward' | 'wait' | 'again' {
    const next = this.decide(m);
    // Held replies go out ahead of whatever PostgreSQL answers to the message.
    if (next === 'forward') this.release();
    return next;
  }

  private decide(m: Queued): 'forward' | 'wait' | 'again' {
    const serverRound = this.s.server !== null && this.s.server.relay.roundOpen;
    if (
      this.skipToSync ||
      (this.localRound && !serverRound && (m.type === Frontend.Sync || m.type === Frontend.Flush))
    ) {
      this.s.queue.shift();
      this.endOfLocalRound(m, serverRound);
      return 'again';
    }
    const tx = m.info?.transaction;
    if (this.participants.length > 0 && tx && (tx.kind === 'commit' || tx.kind === 'rollback')) {
      if (this.s.server?.relay.busy()) return 'wait';
      this.endParticipants(m, tx.kind === 'commit' && this.s.txStatus !== TxStatus.Failed);
      return 'wait';
    }
    const plugins = this.plugins;
    if (this.owns(m)) {
      // Messages already sent in this round hold PostgreSQL's replies until Sync: the plugin's must not overtake them.
      if (serverRound) return 'forward';
      if (this.s.server?.relay.busy()) return 'wait';
      this.s.queue.shift();
      this.run(m);
      return 'wait';
    }
    if (
      !plugins.hasBeforeHooks ||
      this.s.inBlock ||
      this.s.txStatus !== TxStatus.Idle ||
      !mayBeCached(m.info)
    ) {
      return 'forward';
    }
    const n = roundLength(this.s.queue);
    // A Flush before the Sync (a cursor fetching rows bit by bit) wants replies without ending the round.
    const flush = this.s.queue.findIndex((q) => q.type === Frontend.Flush);
    if (flush >= 0 && (n === 0 || flush < n)) {
      this.cleared = flush + 1;
      return 'forward';
    }
    if (n === 0 || this.s.server?.relay.busy()) return 'wait';
    const unnamed = this.s.fwd.unnamedDecoded();
    const stmt = cacheableStatement(
      this.s.queue.slice(0, n),
      this.s.fwd.statements,
      unnamed,
      this.sessionView(),
    );
    if (!stmt) {
      this.cleared = n;
      return 'forward';
    }
    this.busy = true;
    if (this.s.db.statementMetrics && this.s.roundStart === 0) this.s.startRound(m.info!);
    void plugins.runBefore(stmt).then((outcome) => {
      this.busy = false;
      if (this.s.closed) return;
      // A result stored from a round without Describe has no row description: it cannot answer a Query.
      if (outcome.answer && answersRound(this.s.queue.slice(0, n), outcome.answer)) {
        const round = this.s.queue.splice(0, n);
        if (this.s.roundStart !== 0) this.s.endRound('plugin');
        this.s.adoptCachedRound(round);
        this.release();
        this.s.write(answerRound(round, outcome.answer));
      } else {
        this.cleared = n;
        if (outcome.captures.length > 0)
          this.capture = { reply: new ReplyCapture(), captures: outcome.captures };
      }
      this.s.pump();
    });
    return 'wait';
  }

  /** Whether a queued message belongs to a plugin's statement or portal. */
  private owns(m: Queued): boolean {
    if (!this.plugins.hasClaims) return false;
    this.statements ??= new PluginStatements(this.plugins, this.log);
    return this.statements.owns(m.type, m.buf, 0, m.buf.length, m.info);
  }

  /** A Sync ends the round (ReadyForQuery here, or PostgreSQL's when it had messages too); a Flush sends what is held. */
  private endOfLocalRound(m: Queued, serverRound: boolean): void {
    if (m.type === Frontend.Sync) {
      this.skipToSync = false;
      this.localRound = false;
      if (!serverRound) this.held.push(be.readyForQuery(this.s.txStatus));
      this.release();
      if (serverRound) this.s.forward(m.type, m.buf, 0, m.buf.length, null);
    } else if (m.type === Frontend.Flush) this.release();
  }

  /** Runs one message of a plugin's statement; its replies are written when the plugin answers. */
  run(m: Queued): void {
    const statements = this.statements!;
    const session = this.sessionView();
    this.busy = true;
    this.s.stats.queries += m.type === Frontend.Query || m.type === Frontend.Parse ? 1 : 0;
    if (m.type !== Frontend.Query) this.localRound = true;
    if (this.s.db.statementMetrics && m.info && this.s.roundStart === 0) this.s.startRound(m.info);
    const work =
      m.type === Frontend.Query
        ? statements.query(m.buf.toString('utf8', 5, m.buf.length - 1), m.info!, session)
        : statements.message(m.type, m.buf, m.info, session);
    work.then(
      (out) => {
        this.busy = false;
        if (this.s.closed) return;
        if (m.type === Frontend.Query) this.s.write(Buffer.concat([out, be.readyForQuery(this.s.txStatus)]));
        else this.held.push(out);
        if (this.s.roundStart !== 0 && (m.type === Frontend.Query || m.type === Frontend.Execute))
          this.s.endRound('plugin');
        this.s.pump();
      },
      (err: unknown) => {
        this.busy = false;
        if (this.s.closed) return;
        const error = toClientError(err);
        const level = error.sqlstate.startsWith('XX') ? 'warn' : 'debug';
        if (this.log.enabled(level)) {
          const sql = m.type === Frontend.Query || m.type === Frontend.Parse ? statementText(m) : '';
          this.log[level]('plugin statement failed', {
            sqlstate: error.sqlstate,
            ...(sql && statementFields(sql)),
          });
        }
        this.failed(m, error);
        this.s.pump();
      },
    );
  }

  /** As PostgreSQL after an error: the block is aborted, the rest of an extended round is skipped. */
  failed(m: Queued, err: ClientError): void {
    this.s.db.statementMetrics?.statementError({
      database: this.s.db.name,
      sqlstateClass: err.sqlstate.slice(0, 2),
    });
    this.s.roundStart = 0;
    const parts = [be.errorResponse({ severity: 'ERROR', ...err })];
    if (this.s.server && this.s.inBlock && this.s.txStatus !== TxStatus.Failed) {
      // PostgreSQL's side of the block must fail too, so the client's next statement is refused as it expects;
      // a message that arrived meanwhile waits for this query, and its reply (internal) does not pump.
      void this.s.server.query(abortBlockSql).then(() => this.s.pump());
      this.s.txStatus = TxStatus.Failed;
    }
    if (m.type === Frontend.Query) parts.push(be.readyForQuery(this.s.txStatus));
    else {
      this.skipToSync = true;
      this.localRound = true;
    }
    this.held.push(...parts);
    this.release();
  }

  /** COMMIT or ROLLBACK of a block that plugins joined: they finish first; a failed commit rolls everything back. */
  endParticipants(m: Queued, commit: boolean): void {
    const list = this.participants;
    this.participants = [];
    this.busy = true;
    finishParticipants(list, commit, this.log).then((failure) => {
      this.busy = false;
      if (this.s.closed) return;
      if (!failure) {
        this.cleared = 1;
        this.s.pump();
        return;
      }
      this.s.queue.shift();
      const conn = this.s.server;
      if (conn)
        void conn.query('ROLLBACK').then(() => {
          this.s.maybeRelease();
          this.s.pump();
        });
      this.s.txStatus = TxStatus.Idle;
      this.s.inBlock = false;
      const err = toClientError(failure);
      this.failed(m, {
        ...err,
        message: `COMMIT failed, the transaction was rolled back: ${err.message}`,
      });
      this.s.pump();
    });
  }

  /**
   * Writes the held replies: at the round's Sync or Flush, on an error, and before anything else reaches the
   * client (a message of the round going to PostgreSQL, whose replies must follow them). One write, not one per message.
   */
  private release(): void {
    if (this.held.length === 0) return;
    this.s.write(this.held.length === 1 ? this.held[0] : Buffer.concat(this.held));
    this.held = [];
  }

  /** What plugins may know of this client: one object for the whole connection, so it can key per-client state. */
  sessionView(): SessionView {
    if (this.viewObject) return this.viewObject;
    const session = this.s;
    this.viewObject = {
      database: this.s.db.name,
      user: this.s.user,
      get inTransaction() {
        return session.inBlock;
      },
      get readOnly() {
        return session.access.readOnly(session.inBlock, session.settings);
      },
      get settings() {
        return session.settings;
      },
      enlist: (p) => {
        if (!this.participants.includes(p)) this.participants.push(p);
      },
    };
    return this.viewObject;
  }
}

/** Makes PostgreSQL's side of a transaction block fail, after a plugin statement in it failed. */
const abortBlockSql = `DO $$BEGIN RAISE EXCEPTION 'a statement answered by a plugin failed in this transaction'; END$$`;

/** The SQL text a Query or Parse message carries. */
function statementText(m: Queued): string {
  if (m.type === Frontend.Query) return m.buf.toString('utf8', 5, m.buf.length - 1);
  return readParse(m.buf).sql;
}

export function toClientError(err: unknown): ClientError {
  if (err && typeof err === 'object' && 'sqlstate' in err && 'message' in err) return err as ClientError;
  return { sqlstate: errorCodes.internalError.sqlstate, message: messageOf(err) };
}
