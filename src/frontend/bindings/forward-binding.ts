// The one-shard binding: the client's bytes go to a pooled server connection and its replies stream back undecoded.
import type { Duplex } from 'node:stream';
import type { Database } from '../../backend/database.js';
import type { Pool } from '../../backend/pool.js';
import type { RelayTarget } from '../../backend/response-relay.js';
import type { ServerConnection } from '../../backend/server-connection.js';
import { scopeKey } from '../../backend/write-positions.js';
import type { RouteChoice } from '../../backend/shard.js';
import { ProxyError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { Frontend, TxStatus } from '../../protocol/codes.js';
import { FramingError, MessageFramer } from '../../protocol/framer.js';
import { classifiesOffThread, classifySqlAsync, type StatementInfo } from '../../router/classify.js';
import { type RouteOverride } from '../../router/router.js';
import { isStalePlanError } from '../../backend/shared-statements.js';
import { writeOrHold } from '../../net/socket-input.js';
import { ServerBatch } from '../server-batch.js';
import { CommitHold } from '../commit-hold.js';
import { ServerAttach } from '../server-attach.js';
import { StatementIntake } from '../statement-intake.js';
import { SessionAnswers } from '../session-answers.js';
import { SessionPlugins, type Queued } from '../session-plugins.js';
import { SessionPositions } from '../session-positions.js';
import { StatementForwarding } from '../statement-forwarding.js';
import { commandOf } from '../session-commands.js';
import { reportedSettings, settingSql, startupSettings } from '../../backend/server-settings.js';
import { TransactionAccess } from '../transaction-access.js';
import { State } from '../session-state.js';
import type { PluginHost } from '../../plugins/host.js';
import type { StatementDone } from '../../metrics/statement-metrics.js';
import { sqlstateClass, statementKind } from '../statement-labels.js';
import type { Binding, SessionHost, SessionServer } from './binding.js';
import { forwardMessage, isLocal, serializableDefault } from './forward-effects.js';
import { settle } from './forward-state.js';
import {
  acknowledgeParse,
  bindServer,
  checkForwardTimeouts,
  failedReplies,
  releaseBetween,
  releaseOnGone,
  serverLost,
} from './forward-lifecycle.js';

export class ForwardBinding implements Binding, RelayTarget {
  server: ServerConnection | null = null;
  txStatus: number = TxStatus.Idle;
  /** Why this client keeps its server connection between transactions (session pooling or state). */
  pinned: string | null;
  serverPool: Pool | null = null;
  serverRole: 'primary' | 'replica' = 'primary';
  /** Getting a server connection for the queued statements. */
  readonly attach = new ServerAttach(this);
  readonly framer: MessageFramer;
  queue: Queued[] = [];
  /** What goes to the server next, and the client's statements on whichever server runs them. */
  readonly batch = new ServerBatch();
  readonly fwd: StatementForwarding;
  private readonly answers: SessionAnswers;
  private readonly intake: StatementIntake;
  /** Set while the server socket is paused because the client has not yet taken our last write. */
  holdingServer: ServerConnection | null = null;
  readonly socket: Duplex;
  readonly db: Database;
  readonly user: string;
  readonly log: Logger;
  readonly transactionMode: boolean;
  /** Session settings as replayable SQL, by lower-case name; startup ones are what RESET ALL returns to. */
  settings: Map<string, string>;
  readonly startup: Map<string, string>;
  override: RouteOverride = 'auto';
  /** default_transaction_isolation is serializable: a standby refuses every transaction, reads included. */
  serializable = false;
  /** Read-your-writes: the positions this client's reads must see. */
  readonly positions: SessionPositions;
  /** The client opened a transaction block that has not ended yet (predicted from what it sent). */
  inBlock = false;
  readonly stats: { queries: number; transactions: number };
  /** Plugins of this database; null keeps every plugin check off the fast path. */
  readonly plugins: PluginHost | null;
  /** The plugins' step of this session; null when the database has no plugin that looks at statements. */
  readonly pluginSteps: SessionPlugins | null;
  /** Replies held back until what must know of a commit does. */
  readonly commitHold = new CommitHold(this);
  /** Whether the client's transaction is read-only, for plugins. */
  readonly access = new TransactionAccess();
  /** Large Queries being classified in the parser thread: the queue waits for them. */
  classifying = 0;
  /** When the round now running started (performance.now(), ms), 0 when none; the event is reused every round. */
  roundStart = 0;
  private readonly done: StatementDone;

  constructor(
    readonly host: SessionHost,
    maxMessageBytes: number,
  ) {
    const db = (this.db = host.db);
    this.user = host.user;
    this.log = host.log;
    this.socket = host.socket;
    this.stats = host.stats;
    this.framer = MessageFramer.client(maxMessageBytes);
    this.answers = new SessionAnswers(this);
    this.fwd = new StatementForwarding(db.statements, db.mode === 'transaction', this.batch, this.stats);
    this.transactionMode = db.mode === 'transaction';
    this.intake = new StatementIntake(db.primaryFunctions, this.transactionMode, this.fwd);
    this.pinned = this.transactionMode ? null : 'session pooling';
    this.startup = startupSettings(host.startupValues);
    this.settings = new Map(this.startup);
    this.serializable = serializableDefault(this.settings);
    this.done = { database: db.name, kind: 'read', route: 'primary', seconds: 0 };
    const rywScope = scopeKey(
      db.config.routing.read_your_writes,
      this.user,
      host.startupValues.get('application_name'),
    );
    this.positions = new SessionPositions(db, rywScope);
    const plugins = db.plugins;
    this.plugins =
      plugins && (plugins.hasClaims || plugins.hasBeforeHooks || plugins.hasCommitHooks) ? plugins : null;
    this.pluginSteps = this.plugins ? new SessionPlugins(this, this.plugins, this.log) : null;
  }

  get closed(): boolean {
    return this.host.closed;
  }

  hold(attached: SessionServer): void {
    this.bind(attached.conn, attached.pool, attached.choice);
  }

  /** Busy means a statement is running or a transaction is open. */
  busy(): boolean {
    return (
      this.queue.length > 0 ||
      (this.server !== null && (this.server.relay.busy() || this.txStatus !== TxStatus.Idle))
    );
  }

  onData(chunk: Buffer): void {
    const now = Date.now();
    this.host.clock.lastClientAt = now;
    try {
      this.framer.feed(chunk, this.visit);
    } catch (err) {
      if (err instanceof FramingError) {
        this.log.warn('malformed client message', { err: err.message });
        this.host.terminate(new ProxyError('protocolViolation', err.message));
        return;
      }
      throw err;
    }
    this.flush(now);
  }

  private readonly visit = (type: number, buf: Buffer, start: number, end: number): void => {
    if (this.host.closed) return;
    if (type === Frontend.Terminate) {
      this.socket.end();
      this.host.gone();
      return;
    }
    if (type === Frontend.Query && classifiesOffThread(end - start)) {
      this.classifyLater(Buffer.from(buf.subarray(start, end)));
      return;
    }
    const info = this.intake.inspect(type, buf, start, end);
    // The fast path: a server is attached, nothing waits before this message, and it may run there.
    const direct =
      this.queue.length === 0 &&
      !isLocal(type, info) &&
      (this.pluginSteps === null || !this.pluginSteps.needs(type, buf, start, end, info));
    if (
      direct &&
      !this.server &&
      !this.attach.attaching &&
      this.transactionMode &&
      this.attach.atOnce(info)
    ) {
      this.forward(type, buf, start, end, info);
      return;
    }
    if (direct && this.server && !this.needsOtherServer(info)) {
      this.forward(type, buf, start, end, info);
      return;
    }
    this.queue.push({ type, buf: Buffer.from(buf.subarray(start, end)), info });
    this.pump();
  };

  /**
   * A large Query is classified in the parser thread, so other clients are not stalled while it parses;
   * it waits in the queue (and everything after it) until its classification is back.
   */
  private classifyLater(message: Buffer): void {
    const m: Queued = { type: Frontend.Query, buf: message, info: null };
    this.queue.push(m);
    this.classifying++;
    const sql = message.toString('utf8', 5, message.length - 1);
    void classifySqlAsync(sql, { primaryFunctions: this.db.primaryFunctions }).then((info) => {
      m.info = this.intake.forSession(info);
      this.classifying--;
      if (!this.host.closed) this.pump();
    });
    settle(this);
  }

  /** A write reaching a replica between transactions must wait for the replica to be released. */
  private needsOtherServer(info: StatementInfo | null): boolean {
    if (!info || this.serverRole !== 'replica' || this.pinned || this.inBlock) return false;
    if (this.server?.relay.roundOpen) return false;
    if (info.hint) return info.hint === 'primary';
    if (this.override !== 'auto') return false;
    return info.access === 'write';
  }

  /** Works through queued messages: answers local ones, routes and attaches, forwards the rest in order. */
  pump(): void {
    while (this.queue.length > 0 && !this.host.closed) {
      if (this.pluginSteps?.busy || this.commitHold.committing || this.classifying > 0) break;
      const m = this.queue[0];
      if (this.pluginSteps && this.pluginSteps.cleared === 0) {
        const step = this.pluginSteps.step(m);
        if (step === 'wait') break;
        if (step === 'again') continue;
      }
      if (isLocal(m.type, m.info)) {
        if (this.server && this.server.relay.busy()) break;
        // The last write's position is still being learnt: its answer follows (see learnCommitPosition).
        if (commandOf(m.info)?.kind === 'show-write-lsn' && this.positions.learning > 0) break;
        this.queue.shift();
        this.flush();
        this.answers.answer(m.info!);
        continue;
      }
      if (!this.server) {
        const early = acknowledgeParse(this);
        if (early === 'wait') break;
        if (early === 'done') continue;
        this.host.machine.enter(State.waiting);
        if (!this.attach.attaching) this.attach.attach();
        // Attached at once when an idle connection was at hand; otherwise acquire() resumes the pump.
        if (!this.server) break;
        continue;
      }
      if (this.needsOtherServer(m.info)) break;
      this.queue.shift();
      if (this.pluginSteps && this.pluginSteps.cleared > 0) this.pluginSteps.cleared--;
      this.forward(m.type, m.buf, 0, m.buf.length, m.info);
    }
    this.flush();
    settle(this);
  }

  bind(conn: ServerConnection, pool: Pool, choice: RouteChoice): void {
    bindServer(this, conn, pool, choice);
    if (!this.pluginSteps?.busy) this.host.machine.enter(State.bound);
  }

  /** No server could be had: answer every queued request with the error. */
  failQueued(err: Error): void {
    const queued = this.queue;
    this.queue = [];
    if (this.pluginSteps) this.pluginSteps.cleared = 0;
    this.socket.write(failedReplies(queued, err, this.txStatus));
    settle(this);
  }

  /** Appends a message to the outgoing batch, renaming prepared statements under transaction pooling. */
  forward(type: number, buf: Buffer, start: number, end: number, info: StatementInfo | null): void {
    forwardMessage(this, type, buf, start, end, info);
  }

  /** Sends the batch; `now` is the time of the read that filled it, when there was one. */
  private flush(now?: number): void {
    this.batch.seal();
    const conn = this.server;
    if (!conn) return;
    const data = this.batch.take();
    if (!data) return;
    this.host.clock.waitingSince = now ?? Date.now();
    writeOrHold(conn.socket, data, this.socket);
  }

  /** A cached answer stood in for PostgreSQL: keep what the client's unnamed Parse defined, for a later Bind. */
  adoptCachedRound(round: readonly Queued[]): void {
    for (const m of round) {
      if (m.type !== Frontend.Parse) continue;
      this.fwd.adoptUnnamed(m.buf, m.info);
      this.stats.queries++;
    }
    if (round.length === 1 && round[0].type === Frontend.Query) this.stats.queries++;
  }

  /** A commit's acknowledgement waits for what must know of it. */
  get committing(): boolean {
    return this.commitHold.committing;
  }

  /** Writes to the client. */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  classify(sql: string): StatementInfo {
    return this.intake.classify(sql);
  }

  onRoute(choice: RouteChoice): void {
    this.host.hooks.onRoute?.(choice);
  }

  /** The server for the queued statements, by the router's rules. */
  route(): RouteChoice | null {
    return this.attach.route();
  }

  // RelayTarget: replies from the server.

  /** Errors about a server-side statement name show the client's own name, as PostgreSQL would. */
  rewriteError(body: Buffer): Buffer | null {
    return this.fwd.rewriteError(body);
  }

  send(chunk: Buffer): void {
    this.pluginSteps?.feed(chunk);
    if (this.commitHold.keep(chunk)) return;
    const conn = this.server!;
    if (writeOrHold(this.socket, chunk, conn.socket, () => this.onServerResumed(conn)))
      this.holdingServer = conn;
  }

  onReady(status: number): void {
    this.txStatus = status;
    if (this.server && !this.server.relay.busy()) this.host.clock.answered();
    if (this.roundStart !== 0) this.endRound(this.serverRole);
    if (status === TxStatus.Idle && this.server && !this.server.relay.busy()) this.inBlock = false;
    this.pluginSteps?.onReady(status);
    this.commitHold.onReady(status);
    this.maybeRelease();
    if (this.queue.length > 0) this.pump();
  }

  /** Gives the server connection back between transactions, once the client has taken every reply. */
  maybeRelease(): void {
    if (this.server === null) return;
    releaseBetween(this);
    if (this.server === null) settle(this);
  }

  private onServerResumed(conn: ServerConnection): void {
    if (this.holdingServer !== conn) return;
    this.holdingServer = null;
    this.maybeRelease();
    if (this.queue.length > 0) this.pump();
  }

  startRound(info: StatementInfo): void {
    this.roundStart = performance.now();
    this.done.kind = statementKind(info);
  }

  endRound(route: StatementDone['route']): void {
    const metrics = this.db.statementMetrics;
    if (!metrics) return;
    this.done.route = route;
    this.done.seconds = (performance.now() - this.roundStart) / 1000;
    this.roundStart = 0;
    metrics.statementDone(this.done);
  }

  onServerError(body: Buffer): void {
    this.db.statementMetrics?.statementError({ database: this.db.name, sqlstateClass: sqlstateClass(body) });
    // A schema change the proxy did not see made the shared copies stale: every connection drops them.
    if (this.transactionMode && isStalePlanError(body)) this.db.statements.invalidate(null);
  }

  onParameterStatus(name: string, value: string): void {
    const key = name.toLowerCase();
    if (!reportedSettings.has(key)) return;
    const sql = settingSql(name, value);
    this.settings.set(key, sql);
    this.server?.session.settingApplied(key, sql);
  }

  checkTimeouts(now: number): void {
    checkForwardTimeouts(this, now);
  }

  /** The server connection died under this client: its transaction state is gone with it. */
  onServerLost(): void {
    serverLost(this);
  }

  release(): void {
    this.pluginSteps?.abandon();
    releaseOnGone(this);
  }
}
