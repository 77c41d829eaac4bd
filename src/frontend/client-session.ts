// A logged-in client: routes its messages to a pooled server connection and relays the replies.
import type { Duplex } from 'node:stream';
import type { Database } from '../backend/database.js';
import type { Pool } from '../backend/pool.js';
import type { RelayTarget } from '../backend/response-relay.js';
import { ParseKind } from '../backend/response-relay.js';
import type { ServerConnection } from '../backend/server-connection.js';
import { BackendError } from '../backend/server-connection.js';
import { scopeKey } from '../backend/write-positions.js';
import type { RouteChoice } from '../backend/shard.js';
import { ProxyError, errorCodes } from '../errors.js';
import { type Logger } from '../logger.js';
import * as be from '../protocol/backend-messages.js';
import { Frontend, TxStatus } from '../protocol/codes.js';
import { FramingError, MessageFramer } from '../protocol/framer.js';
import { classifiesOffThread, classifySqlAsync, type StatementInfo } from '../router/classify.js';
import { type RouteOverride } from '../router/router.js';
import { isStalePlanError } from '../backend/shared-statements.js';
import { writeOrHold, type SocketInput } from '../net/socket-input.js';
import { cstringEnd } from './prepared-statements.js';
import { ServerBatch } from './server-batch.js';
import { greetingSettings } from './greeting.js';
import { CommitHold } from './commit-hold.js';
import { ServerAttach } from './server-attach.js';
import { StatementIntake } from './statement-intake.js';
import { resetAndRelease } from '../backend/server-reset.js';
import { SessionClock } from './session-clock.js';
import { SessionAnswers } from './session-answers.js';
import { SessionPlugins, type Queued } from './session-plugins.js';
import { SessionPositions } from './session-positions.js';
import { StatementForwarding, mayReset } from './statement-forwarding.js';
import { commandOf } from './session-commands.js';
import { reportedSettings, settingSql, settingsDiff, startupSettings } from '../backend/server-settings.js';
import { TransactionAccess } from './transaction-access.js';
import type { PluginHost } from '../plugins/host.js';
import type { StatementDone } from '../metrics/statement-metrics.js';
import { sqlstateClass, statementKind } from './statement-labels.js';

/** A server connection taken at login for a session-pooled client. */
export interface SessionServer {
  conn: ServerConnection;
  pool: Pool;
  choice: RouteChoice;
}

export interface SessionHooks {
  /** Sends a cancel request to the server connection's backend process. */
  cancelServer(conn: ServerConnection): void;
  onClosed(session: ClientSession): void;
  /** Counts a routing decision (metrics). */
  onRoute?(choice: RouteChoice): void;
}

/** A simple-protocol statement the proxy answers itself, never sent to a server. */
function isLocal(type: number, info: StatementInfo | null): boolean {
  if (type !== Frontend.Query || !info) return false;
  return (
    info.explainRoute !== undefined ||
    commandOf(info) !== undefined ||
    // Only SET/RESET polyproxy.route itself: RESET ALL and DISCARD ALL reset the override too, but PostgreSQL runs them.
    (info.statementCount === 1 &&
      (info.reason === 'route-override' || info.reason === 'route-override-invalid'))
  );
}

export class ClientSession implements RelayTarget {
  server: ServerConnection | null = null;
  txStatus: number = TxStatus.Idle;
  readonly connectedAt = Date.now();
  closed = false;
  /** Why this client keeps its server connection between transactions (session pooling or state). */
  pinned: string | null;
  private serverPool: Pool | null = null;
  serverRole: 'primary' | 'replica' = 'primary';
  /** Getting a server connection for the queued statements. */
  private readonly attach = new ServerAttach(this);
  private framer: MessageFramer;
  queue: Queued[] = [];
  /** What goes to the server next, and the client's statements on whichever server runs them. */
  private readonly batch = new ServerBatch();
  readonly fwd: StatementForwarding;
  private readonly answers: SessionAnswers;
  private readonly intake: StatementIntake;
  /** Set while the server socket is paused because the client has not yet taken our last write. */
  private holdingServer: ServerConnection | null = null;
  private readonly socket: Duplex;
  readonly transactionMode: boolean;
  /** Session settings as replayable SQL, by lower-case name; startup ones are what RESET ALL returns to. */
  settings: Map<string, string>;
  private readonly startup: Map<string, string>;
  override: RouteOverride = 'auto';
  /** default_transaction_isolation is serializable: a standby refuses every transaction, reads included. */
  serializable = false;
  /** Read-your-writes: the positions this client's reads must see. */
  readonly positions: SessionPositions;
  /** The client opened a transaction block that has not ended yet (predicted from what it sent). */
  inBlock = false;
  stats = { queries: 0, transactions: 0 };
  /** Plugins of this database; null keeps every plugin check off the fast path. */
  readonly plugins: PluginHost | null;
  /** The plugins' step of this session; null when the database has no plugin that looks at statements. */
  readonly pluginSteps: SessionPlugins | null;
  /** Replies held back until what must know of a commit does. */
  private readonly hold = new CommitHold(this);
  /** Whether the client's transaction is read-only, for plugins (the sharded session feeds it too). */
  readonly access = new TransactionAccess();
  /** Large Queries being classified in the parser thread: the queue waits for them. */
  private classifying = 0;
  /** When the client last sent, and since when the server owes a reply: for the pool timeouts. */
  private readonly clock = new SessionClock();
  /** When the round now running started (performance.now(), ms), 0 when none; the event is reused every round. */
  roundStart = 0;
  private readonly done: StatementDone;

  constructor(
    private readonly input: SocketInput,
    readonly db: Database,
    readonly user: string,
    readonly pid: number,
    readonly secret: number,
    private readonly startupValues: Map<string, string>,
    maxMessageBytes: number,
    private readonly log: Logger,
    private readonly hooks: SessionHooks,
  ) {
    this.socket = input.socket;
    this.framer = MessageFramer.client(maxMessageBytes);
    this.answers = new SessionAnswers(this);
    this.fwd = new StatementForwarding(db.statements, db.mode === 'transaction', this.batch, this.stats);
    this.transactionMode = db.mode === 'transaction';
    this.intake = new StatementIntake(db.primaryFunctions, this.transactionMode, this.fwd);
    this.pinned = this.transactionMode ? null : 'session pooling';
    this.startup = startupSettings(startupValues);
    this.settings = new Map(this.startup);
    this.serializable = serializableDefault(this.settings);
    this.done = { database: db.name, kind: 'read', route: 'primary', seconds: 0 };
    this.positions = new SessionPositions(
      db,
      scopeKey(db.config.routing.read_your_writes, user, startupValues.get('application_name')),
    );
    const plugins = db.plugins;
    this.plugins =
      plugins && (plugins.hasClaims || plugins.hasBeforeHooks || plugins.hasCommitHooks) ? plugins : null;
    this.pluginSteps = this.plugins ? new SessionPlugins(this, this.plugins, log) : null;
  }

  /**
   * Completes the login with the server's parameters and starts serving queries. `attached` is the
   * server connection a session-pooled client holds from its login on (its pid is the one announced).
   */
  start(serverParams: Map<string, string>, leftover: Buffer, attached?: SessionServer): void {
    if (attached) this.bind(attached.conn, attached.pool, attached.choice);
    const parts: Buffer[] = [];
    for (const [k, v] of greetingSettings(serverParams, this.startupValues))
      parts.push(be.parameterStatus(k, v));
    parts.push(be.backendKeyData(this.pid, this.secret), be.readyForQuery(TxStatus.Idle));
    this.socket.write(Buffer.concat(parts));
    this.input.handler = (chunk) => this.onData(chunk);
    this.socket.on('close', () => this.onClientGone());
    this.socket.on('error', () => {});
    if (leftover.length > 0) this.onData(leftover);
  }

  /** Busy means a statement is running or a transaction is open. */
  inTransaction(): boolean {
    return (
      this.queue.length > 0 ||
      (this.server !== null && (this.server.relay.busy() || this.txStatus !== TxStatus.Idle))
    );
  }

  /** Ends the session with a FATAL error the client can read. */
  terminate(err: ProxyError): void {
    if (this.closed) return;
    this.socket.write(
      be.errorResponse({ severity: 'FATAL', sqlstate: err.sqlstate, message: err.message, hint: err.hint }),
    );
    this.socket.end();
    this.onClientGone();
  }

  private onData(chunk: Buffer): void {
    this.clock.lastClientAt = Date.now();
    try {
      this.framer.feed(chunk, this.visit);
    } catch (err) {
      if (err instanceof FramingError) {
        this.log.warn('malformed client message', { err: err.message });
        this.terminate(new ProxyError('protocolViolation', err.message));
        return;
      }
      throw err;
    }
    this.flush();
  }

  private readonly visit = (type: number, buf: Buffer, start: number, end: number): void => {
    if (this.closed) return;
    if (type === Frontend.Terminate) {
      this.socket.end();
      this.onClientGone();
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
      if (!this.closed) this.pump();
    });
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
    while (this.queue.length > 0 && !this.closed) {
      if (this.pluginSteps?.busy || this.hold.committing || this.classifying > 0) break;
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
        const early = this.acknowledgeParse();
        if (early === 'wait') break;
        if (early === 'done') continue;
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
  }

  /**
   * A named Parse followed by Sync, of a statement that parsed before on this database, is acknowledged
   * without waiting for a server connection; it is prepared on whichever connection runs its Bind. Drivers
   * that prepare synchronously (libpq's PQprepare, pgbench -M prepared) would otherwise hold every
   * connection their other clients need, when there are more clients than server connections.
   */
  private acknowledgeParse(): 'wait' | 'done' | 'no' {
    const m = this.queue[0];
    if (!this.transactionMode || this.pinned || m.type !== Frontend.Parse || m.buf[5] === 0) return 'no';
    const next = this.queue[1];
    if (next && next.type !== Frontend.Sync) return 'no';
    const nameEnd = cstringEnd(m.buf, 5, m.buf.length);
    if (nameEnd < 0) return 'no';
    const name = m.buf.toString('utf8', 5, nameEnd);
    if (this.fwd.statements.get(name)) return 'no';
    const stmt = this.fwd.statements.define(
      name,
      m.buf,
      0,
      nameEnd,
      m.buf.length,
      m.info,
      this.db.statements.generation,
    );
    if (!this.db.statements.isKnown(stmt.serverName)) {
      this.fwd.statements.forget(name, stmt);
      return 'no';
    }
    if (!next) {
      // Wait for the rest of the round: a Sync keeps this path, anything else goes to a server.
      this.fwd.statements.forget(name, stmt);
      return 'wait';
    }
    this.queue.splice(0, 2);
    this.attach.routed = null;
    this.stats.queries++;
    this.socket.write(Buffer.concat([be.parseComplete, be.readyForQuery(this.txStatus)]));
    return 'done';
  }

  bind(conn: ServerConnection, pool: Pool, choice: RouteChoice): void {
    choice.count++;
    this.server = conn;
    this.serverPool = pool;
    this.serverRole = choice.decision.role;
    this.positions.wroteHere = false;
    conn.relay.target = this;
    this.stats.transactions++;
    const sql = settingsDiff(this.settings, conn);
    if (sql) {
      conn.query(sql).then((error) => {
        if (!error) return;
        // Forget what was assumed applied, so the next transaction tries again.
        conn.applied.clear();
        this.log.warn('could not apply session settings', { error });
      });
    }
  }

  /** No server could be had: answer every queued request with the error. */
  failQueued(err: Error): void {
    const queued = this.queue;
    this.queue = [];
    if (this.pluginSteps) this.pluginSteps.cleared = 0;
    const sqlstate = err instanceof BackendError ? err.sqlstate : errorCodes.connectionFailure.sqlstate;
    const error = be.errorResponse({ severity: 'ERROR', sqlstate, message: err.message });
    // As PostgreSQL does after an error: one ErrorResponse per round, each round ended by ReadyForQuery.
    const parts: Buffer[] = [];
    let erred = false;
    for (const m of queued) {
      if (!erred) parts.push(error);
      erred = true;
      if (m.type === Frontend.Sync || m.type === Frontend.Query) {
        parts.push(be.readyForQuery(this.txStatus));
        erred = false;
      }
    }
    this.socket.write(Buffer.concat(parts));
  }

  /** Appends a message to the outgoing batch, renaming prepared statements under transaction pooling. */
  forward(type: number, buf: Buffer, start: number, end: number, info: StatementInfo | null): void {
    const conn = this.server!;
    if (info) {
      if (info.reason === 'ddl' && this.transactionMode)
        this.fwd.noteSchemaChange(type, buf, start, end, info);
      this.track(info);
      if (this.roundStart === 0 && this.db.statementMetrics) this.startRound(info);
    }
    switch (type) {
      case Frontend.Query:
        conn.relay.sendEpoch++;
        this.stats.queries++;
        // A simple query drops the unnamed statement, the client's and the server's.
        this.fwd.dropUnnamed(conn);
        if (this.transactionMode && mayReset(info))
          this.fwd.checkResets(conn, buf.toString('utf8', start + 5, end - 1));
        break;
      case Frontend.Sync:
        conn.relay.sendEpoch++;
        conn.relay.roundOpen = false;
        break;
      case Frontend.FunctionCall:
        conn.relay.sendEpoch++;
        break;
      case Frontend.Parse:
        conn.relay.roundOpen = true;
        if (buf[start + 5] === 0) {
          this.pluginSteps?.forgetUnnamed(type);
          return this.fwd.forwardUnnamedParse(conn, buf, start, end, info);
        }
        if (this.transactionMode) return this.fwd.forwardParse(conn, buf, start, end, info);
        break;
      case Frontend.Bind:
        conn.relay.roundOpen = true;
        if (this.pluginSteps && buf[start + 5] === 0) this.pluginSteps.forgetUnnamed(Frontend.Bind);
        if (this.transactionMode) return this.fwd.forwardBind(conn, buf, start, end);
        this.fwd.ensureUnnamedFor(conn, buf, start + 5, end);
        break;
      case Frontend.Describe:
      case Frontend.Close:
        conn.relay.roundOpen = true;
        if (buf[start + 5] === 0x53 && buf[start + 6] === 0 && type === Frontend.Describe)
          this.fwd.ensureUnnamed(conn);
        if (this.transactionMode && buf[start + 5] === 0x53)
          return this.fwd.forwardStatementTarget(conn, type, buf, start, end);
        if (this.transactionMode && type === Frontend.Close)
          conn.relay.trackClose({ epoch: conn.relay.sendEpoch, kind: ParseKind.Client });
        break;
      case Frontend.Execute:
        conn.relay.roundOpen = true;
        break;
    }
    this.batch.pass(buf, start, end);
  }

  /** Session effects of a statement the server is about to run. */
  private track(info: StatementInfo): void {
    if (info.access === 'write' && this.serverRole === 'primary') this.positions.wroteHere = true;
    this.hold.see(info, this.txStatus);
    if (info.pin && !this.pinned) {
      this.pinned = info.pin;
      this.log.debug('client pinned to its server connection', { reason: info.pin });
    }
    this.access.see(info, this.inBlock, this.settings);
    const tx = info.transaction;
    if (tx?.kind === 'begin') this.inBlock = true;
    else if ((tx?.kind === 'commit' || tx?.kind === 'rollback') && !tx.chain) this.inBlock = false;
    if (info.routeOverride) this.override = info.routeOverride;
    if (info.resetAll) {
      this.settings = new Map(this.startup);
      this.server?.applied.clear();
    }
    for (const s of info.sets ?? []) {
      if (s.sql === null) this.settings.delete(s.name);
      else this.settings.set(s.name, s.sql);
      if (s.sql === null) this.server?.applied.delete(s.name);
      else this.server?.applied.set(s.name, s.sql);
    }
    if (info.sets || info.resetAll) this.serializable = serializableDefault(this.settings);
  }

  private flush(): void {
    this.batch.seal();
    const conn = this.server;
    if (!conn) return;
    const data = this.batch.take();
    if (!data) return;
    this.clock.waitingSince = Date.now();
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
    return this.hold.committing;
  }

  /** Writes to the client. */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  classify(sql: string): StatementInfo {
    return this.intake.classify(sql);
  }

  onRoute(choice: RouteChoice): void {
    this.hooks.onRoute?.(choice);
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
    if (this.hold.keep(chunk)) return;
    const conn = this.server!;
    if (writeOrHold(this.socket, chunk, conn.socket, () => this.onServerResumed(conn)))
      this.holdingServer = conn;
  }

  onReady(status: number): void {
    this.txStatus = status;
    if (this.server && !this.server.relay.busy()) {
      this.clock.answered();
    }
    if (this.roundStart !== 0) this.endRound(this.serverRole);
    if (status === TxStatus.Idle && this.server && !this.server.relay.busy()) this.inBlock = false;
    this.pluginSteps?.onReady(status);
    this.hold.onReady(status);
    this.maybeRelease();
    if (this.queue.length > 0) this.pump();
  }

  /** Gives the server connection back between transactions, once the client has taken every reply. */
  maybeRelease(): void {
    const conn = this.server;
    const pool = this.serverPool;
    if (
      !conn ||
      !pool ||
      this.pinned ||
      this.holdingServer ||
      this.txStatus !== TxStatus.Idle ||
      conn.relay.busy()
    )
      return;
    this.server = null;
    this.serverPool = null;
    if (this.positions.mustLearn()) {
      this.positions.learn(conn, pool, () => {
        if (this.queue.length > 0 && !this.closed) this.pump();
      });
      return;
    }
    pool.release(conn);
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
    this.server?.applied.set(key, sql);
  }

  /**
   * The pool's timeouts, checked about once a second: a statement running past query_timeout is cancelled
   * (and its server connection closed when even the cancel gets no answer: a frozen server must not hold
   * its clients forever); a client idle in a transaction past idle_transaction_timeout is disconnected, its
   * transaction rolled back and its server connection freed.
   */
  checkTimeouts(now: number): void {
    const conn = this.server;
    if (!conn || this.closed) return;
    const idle = this.txStatus !== TxStatus.Idle && this.queue.length === 0;
    switch (this.clock.due(now, this.db.config.pool, this.holdingServer !== null, idle)) {
      case 'cancel':
        this.log.warn('statement ran past query_timeout; cancelling it', { pid: conn.pid });
        this.hooks.cancelServer(conn);
        return;
      case 'close':
        this.log.warn('server answered neither the statement nor its cancel; closing its connection', {
          pid: conn.pid,
        });
        conn.close();
        return;
      case 'disconnect':
        this.log.info('client idle in transaction past idle_transaction_timeout; disconnecting it');
        this.terminate(new ProxyError('idleInTransactionTimeout', undefined, undefined, 'FATAL'));
    }
  }

  /** The server connection died under this client: its transaction state is gone with it. */
  onServerLost(): void {
    const conn = this.server;
    if (!conn) return;
    this.server = null;
    if (conn.relay.fatalRelayed) {
      // The client already has the server's own FATAL: a second error would only confuse its driver.
      this.socket.end();
      this.onClientGone();
      return;
    }
    this.terminate(
      this.clock.serverSilent
        ? new ProxyError(
            'serverUnresponsive',
            'the server answered neither the statement nor a cancel request within query_timeout; its connection was closed',
            'reconnect and retry; check the server',
            'FATAL',
          )
        : new ProxyError(
            'backendUnavailable',
            'server connection lost; reconnect and retry',
            undefined,
            'FATAL',
          ),
    );
  }

  /** Returns the server connection clean, or closes it when it is mid-statement. */
  private onClientGone(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.hooks.onClosed(this);
    this.pluginSteps?.abandon();
    const conn = this.server;
    const pool = this.serverPool;
    if (!conn || !pool) return;
    this.server = null;
    this.serverPool = null;
    conn.relay.target = null;
    if (this.holdingServer) {
      // The client socket is destroyed, so its pending writes no longer point into the server's buffer.
      this.holdingServer = null;
      conn.resume();
    }
    if (conn.relay.busy() || conn.closed) {
      this.hooks.cancelServer(conn);
      pool.destroy(conn);
      return;
    }
    const rollback = this.txStatus !== TxStatus.Idle;
    const resetQuery = this.pinned ? this.db.config.pool.reset_query : null;
    resetAndRelease(conn, pool, { rollback, resetQuery }, this.log);
  }
}

/** Whether the client's settings make every transaction serializable (SET default_transaction_isolation, SET SESSION CHARACTERISTICS, -c). */
function serializableDefault(settings: Map<string, string>): boolean {
  return /serializable/i.test(settings.get('default_transaction_isolation') ?? '');
}
