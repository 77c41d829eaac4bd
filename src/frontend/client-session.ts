// A logged-in client: forwards its messages to a pooled server connection and relays the replies.
import type { Duplex } from 'node:stream';
import type { Database } from '../backend/database.js';
import type { RelayTarget } from '../backend/response-relay.js';
import { ParseKind } from '../backend/response-relay.js';
import type { ServerConnection } from '../backend/server-connection.js';
import { BackendError } from '../backend/server-connection.js';
import { ProxyError } from '../errors.js';
import type { Logger } from '../logger.js';
import * as be from '../protocol/backend-messages.js';
import { Frontend, TxStatus } from '../protocol/codes.js';
import { FramingError, MessageFramer } from '../protocol/framer.js';
import { sessionPinReason, sessionResetKind } from '../router/session-state.js';
import {
  PreparedStatements,
  cstringEnd,
  noopClose,
  renameBind,
  renameParse,
  renameTarget,
  standInClose,
  standInParse,
} from './prepared-statements.js';
import { settingsDiff, trackedSettings } from './session-settings.js';
import { writeOrHold, type SocketInput } from '../net/socket-input.js';

export interface SessionHooks {
  /** Sends a cancel request to the server connection's backend process. */
  cancelServer(conn: ServerConnection): void;
  onClosed(session: ClientSession): void;
}

interface Queued {
  type: number;
  buf: Buffer;
  start: number;
  end: number;
}

export class ClientSession implements RelayTarget {
  server: ServerConnection | null = null;
  txStatus: number = TxStatus.Idle;
  readonly connectedAt = Date.now();
  closed = false;
  /** Why this client keeps its server connection between transactions (session pooling or state). */
  pinned: string | null;
  private framer: MessageFramer;
  private statements = new PreparedStatements();
  private queue: Queued[] | null = null;
  private out: Buffer[] = [];
  private runBuf: Buffer | null = null;
  private runStart = 0;
  private runEnd = 0;
  /** Set while the server socket is paused because the client has not yet taken our last write. */
  private holdingServer: ServerConnection | null = null;
  private readonly socket: Duplex;
  private readonly transactionMode: boolean;
  stats = { queries: 0, transactions: 0 };

  constructor(
    private readonly input: SocketInput,
    readonly db: Database,
    readonly user: string,
    readonly pid: number,
    readonly secret: number,
    private readonly settings: Map<string, string>,
    maxMessageBytes: number,
    private readonly log: Logger,
    private readonly hooks: SessionHooks,
  ) {
    this.socket = input.socket;
    this.framer = new MessageFramer(maxMessageBytes);
    this.transactionMode = db.mode === 'transaction';
    this.pinned = this.transactionMode ? null : 'session pooling';
  }

  /** Completes the login with the server's parameters and starts serving queries. */
  start(serverParams: Map<string, string>, leftover: Buffer): void {
    const shown = new Map(serverParams);
    for (const [k, v] of this.settings) if (shown.has(k) || trackedSettings.has(k)) shown.set(k, v);
    const parts: Buffer[] = [];
    for (const [k, v] of shown) parts.push(be.parameterStatus(k, v));
    parts.push(be.backendKeyData(this.pid, this.secret), be.readyForQuery(TxStatus.Idle));
    this.socket.write(Buffer.concat(parts));
    this.input.handler = (chunk) => this.onData(chunk);
    this.socket.on('close', () => this.onClientGone());
    this.socket.on('error', () => {});
    if (leftover.length > 0) this.onData(leftover);
  }

  /** Busy means a statement is running or a transaction is open. */
  inTransaction(): boolean {
    return this.server !== null && (this.server.relay.busy() || this.txStatus !== TxStatus.Idle);
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
    try {
      this.framer.feed(chunk, this.visit);
    } catch (err) {
      if (err instanceof FramingError) {
        this.log.warn('malformed client message', { err: err.message });
        this.terminate(new ProxyError('protocolViolation', `invalid message from client: ${err.message}`));
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
    if (this.server && !this.queue) {
      this.forward(type, buf, start, end);
      return;
    }
    // The read buffer is reused: a message that waits for a server connection needs its own copy.
    const copy = Buffer.from(buf.subarray(start, end));
    (this.queue ??= []).push({ type, buf: copy, start: 0, end: copy.length });
    if (this.queue.length === 1) this.attachServer();
  };

  /** Takes a pooled connection: synchronously when one is idle, else after waiting in the pool's queue. */
  private attachServer(): void {
    const conn = this.db.pool.tryAcquire();
    if (conn) {
      this.bind(conn);
      return;
    }
    this.db.pool.acquire().then(
      (c) => {
        if (this.closed) this.db.pool.release(c);
        else {
          this.bind(c);
          this.flush();
        }
      },
      (err: Error) => this.failQueued(err),
    );
  }

  private bind(conn: ServerConnection): void {
    this.server = conn;
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
    const queued = this.queue ?? [];
    this.queue = null;
    for (const m of queued) this.forward(m.type, m.buf, m.start, m.end);
  }

  /** The pool could not give a connection: answer every queued request with the error. */
  private failQueued(err: Error): void {
    const queued = this.queue ?? [];
    this.queue = null;
    const sqlstate = err instanceof BackendError ? err.sqlstate : '08006';
    const error = be.errorResponse({ severity: 'ERROR', sqlstate, message: err.message });
    // As PostgreSQL does after an error: one ErrorResponse per round, each round ended by ReadyForQuery.
    const parts: Buffer[] = [];
    let erred = false;
    for (const m of queued) {
      if (!erred) parts.push(error);
      erred = true;
      if (m.type === Frontend.Sync || m.type === Frontend.Query) {
        parts.push(be.readyForQuery(TxStatus.Idle));
        erred = false;
      }
    }
    this.socket.write(Buffer.concat(parts));
  }

  /** Appends a message to the outgoing batch, renaming prepared statements under transaction pooling. */
  private forward(type: number, buf: Buffer, start: number, end: number): void {
    const conn = this.server!;
    switch (type) {
      case Frontend.Query:
        conn.relay.sendEpoch++;
        this.stats.queries++;
        if (this.transactionMode) this.checkSessionEffects(conn, buf.toString('utf8', start + 5, end - 1));
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
        if (this.transactionMode) return this.forwardParse(conn, buf, start, end);
        break;
      case Frontend.Bind:
        conn.relay.roundOpen = true;
        if (this.transactionMode) return this.forwardBind(conn, buf, start, end);
        break;
      case Frontend.Describe:
      case Frontend.Close:
        conn.relay.roundOpen = true;
        if (this.transactionMode && buf[start + 5] === 0x53)
          return this.forwardStatementTarget(conn, type, buf, start, end);
        if (this.transactionMode && type === Frontend.Close)
          conn.relay.trackClose({ epoch: conn.relay.sendEpoch, kind: ParseKind.Client });
        break;
      case Frontend.Execute:
        conn.relay.roundOpen = true;
        break;
    }
    this.pass(buf, start, end);
  }

  private forwardParse(conn: ServerConnection, buf: Buffer, start: number, end: number): void {
    const nameEnd = cstringEnd(buf, start + 5, end);
    const queryEnd = nameEnd < 0 ? -1 : cstringEnd(buf, nameEnd + 1, end);
    if (queryEnd < 0) return this.pass(buf, start, end);
    this.stats.queries++;
    this.checkSessionEffects(conn, buf.toString('utf8', nameEnd + 1, queryEnd));
    if (nameEnd === start + 5) {
      // Tracked too: the relay pairs every ParseComplete with the Parse it answers.
      conn.relay.trackParse({ epoch: conn.relay.sendEpoch, kind: ParseKind.Client });
      return this.pass(buf, start, end);
    }
    const name = buf.toString('utf8', start + 5, nameEnd);
    const epoch = conn.relay.sendEpoch;
    const existing = this.statements.get(name);
    if (existing) {
      // PostgreSQL refuses to redefine a name (42P05): send the Parse under the existing server-side
      // name, present on this connection, so the server answers with that error in the right place.
      this.ensurePrepared(conn, existing.serverName, existing.parse);
      conn.relay.trackParse({ epoch, kind: ParseKind.Client });
      this.push(renameParse(buf, nameEnd, end, existing.serverName));
      return;
    }
    const stmt = this.statements.define(name, buf, start, nameEnd, end);
    if (conn.prepared.has(stmt.serverName)) {
      conn.relay.trackClose({ epoch, kind: ParseKind.Injected });
      conn.relay.trackParse({ epoch, kind: ParseKind.Client });
      this.push(standInClose);
      this.push(standInParse);
      return;
    }
    const onFail = () => {
      conn.prepared.delete(stmt.serverName);
      this.statements.forget(name, stmt);
    };
    if (conn.relay.trackParse({ epoch, kind: ParseKind.Client, onFail })) conn.prepared.add(stmt.serverName);
    else onFail();
    this.push(stmt.parse);
  }

  private forwardBind(conn: ServerConnection, buf: Buffer, start: number, end: number): void {
    const portalEnd = cstringEnd(buf, start + 5, end);
    const stmtEnd = portalEnd < 0 ? -1 : cstringEnd(buf, portalEnd + 1, end);
    if (stmtEnd <= portalEnd + 1) return this.pass(buf, start, end);
    const stmt = this.statements.get(buf.toString('utf8', portalEnd + 1, stmtEnd));
    if (!stmt) return this.pass(buf, start, end);
    this.ensurePrepared(conn, stmt.serverName, stmt.parse);
    this.push(renameBind(buf, start, portalEnd, stmtEnd, end, stmt.serverName));
  }

  private forwardStatementTarget(
    conn: ServerConnection,
    type: number,
    buf: Buffer,
    start: number,
    end: number,
  ): void {
    const nameEnd = cstringEnd(buf, start + 6, end);
    if (nameEnd <= start + 6) return this.pass(buf, start, end);
    const name = buf.toString('utf8', start + 6, nameEnd);
    const stmt = this.statements.get(name);
    if (!stmt) {
      if (type === Frontend.Close)
        conn.relay.trackClose({ epoch: conn.relay.sendEpoch, kind: ParseKind.Client });
      return this.pass(buf, start, end);
    }
    if (type === Frontend.Close) {
      // Other clients may share the server-side statement: only this client's name goes away.
      this.statements.forget(name);
      conn.relay.trackClose({ epoch: conn.relay.sendEpoch, kind: ParseKind.Client });
      this.push(noopClose);
      return;
    }
    this.ensurePrepared(conn, stmt.serverName, stmt.parse);
    this.push(renameTarget(type, stmt.serverName));
  }

  /** Prepares a statement on this connection first if it lacks it; its ParseComplete is hidden. */
  private ensurePrepared(conn: ServerConnection, serverName: string, parse: Buffer): void {
    if (conn.prepared.has(serverName)) return;
    const onFail = () => conn.prepared.delete(serverName);
    if (conn.relay.trackParse({ epoch: conn.relay.sendEpoch, kind: ParseKind.Injected, onFail })) {
      conn.prepared.add(serverName);
      this.push(parse);
    }
  }

  /** Statements that pin the client to this connection or wipe its prepared statements. */
  private checkSessionEffects(conn: ServerConnection, sql: string): void {
    if (!this.pinned) {
      const reason = sessionPinReason(sql);
      if (reason) {
        this.pinned = reason;
        this.log.debug('client pinned to its server connection', { reason });
      }
    }
    const reset = sessionResetKind(sql);
    if (reset) {
      // DEALLOCATE ALL / DISCARD ALL remove every statement on the server, this client's included.
      conn.prepared.clear();
      this.statements.clear();
      if (reset === 'discard') conn.applied.clear();
    }
  }

  /** Adds bytes of the client's own message, coalescing neighbours into one slice. */
  private pass(buf: Buffer, start: number, end: number): void {
    if (buf === this.runBuf && start === this.runEnd) {
      this.runEnd = end;
      return;
    }
    this.closeRun();
    this.runBuf = buf;
    this.runStart = start;
    this.runEnd = end;
  }

  private push(b: Buffer): void {
    this.closeRun();
    this.out.push(b);
  }

  private closeRun(): void {
    if (this.runBuf) this.out.push(this.runBuf.subarray(this.runStart, this.runEnd));
    this.runBuf = null;
  }

  private flush(): void {
    this.closeRun();
    const conn = this.server;
    if (!conn || this.out.length === 0) return;
    const data = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out);
    this.out = [];
    writeOrHold(conn.socket, data, this.socket);
  }

  // RelayTarget: replies from the server.

  send(chunk: Buffer): void {
    const conn = this.server!;
    if (writeOrHold(this.socket, chunk, conn.socket, () => this.onServerResumed(conn)))
      this.holdingServer = conn;
  }

  onReady(status: number): void {
    this.txStatus = status;
    this.maybeRelease();
  }

  /** Gives the server connection back between transactions, once the client has taken every reply. */
  private maybeRelease(): void {
    const conn = this.server;
    if (!conn || this.pinned || this.holdingServer || this.txStatus !== TxStatus.Idle || conn.relay.busy())
      return;
    this.server = null;
    this.db.pool.release(conn);
  }

  private onServerResumed(conn: ServerConnection): void {
    if (this.holdingServer !== conn) return;
    this.holdingServer = null;
    this.maybeRelease();
  }

  /** Errors about a server-side statement name show the client's own name, as PostgreSQL would. */
  rewriteError(body: Buffer): Buffer | null {
    if (body.indexOf('"pp_') < 0) return null;
    let text = body.toString();
    for (const [name, stmt] of this.statements.entries())
      text = text.replaceAll(`"${stmt.serverName}"`, `"${name}"`);
    return Buffer.from(text);
  }

  onParameterStatus(name: string, value: string): void {
    if (!trackedSettings.has(name)) return;
    this.settings.set(name, value);
    this.server?.applied.set(name, value);
  }

  /** The server connection died under this client: its transaction state is gone with it. */
  onServerLost(): void {
    if (!this.server) return;
    this.server = null;
    this.terminate(
      new ProxyError('backendUnavailable', 'server connection lost; reconnect and retry', undefined, 'FATAL'),
    );
  }

  /** Returns the server connection clean, or closes it when it is mid-statement. */
  private onClientGone(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.hooks.onClosed(this);
    const conn = this.server;
    if (!conn) return;
    this.server = null;
    conn.relay.target = null;
    if (this.holdingServer) {
      // The client socket is destroyed, so its pending writes no longer point into the server's buffer.
      this.holdingServer = null;
      conn.resume();
    }
    const pool = this.db.pool;
    if (conn.relay.busy() || conn.closed) {
      this.hooks.cancelServer(conn);
      pool.destroy(conn);
      return;
    }
    const steps: string[] = [];
    if (this.txStatus !== TxStatus.Idle) steps.push('ROLLBACK');
    if (this.pinned) steps.push(this.db.config.pool.reset_query);
    if (steps.length === 0) {
      pool.release(conn);
      return;
    }
    // One statement per query: DISCARD ALL refuses to run inside the implicit block of a multi-statement query.
    const reset = async () => {
      for (const sql of steps) {
        const error = await conn.query(sql);
        if (error || conn.closed) return error ?? 'connection closed';
      }
      return undefined;
    };
    reset().then((error) => {
      if (error) {
        this.log.warn('could not reset server connection; closing it', { error });
        pool.destroy(conn);
        return;
      }
      if (this.pinned) {
        conn.prepared.clear();
        conn.applied.clear();
      }
      pool.release(conn);
    });
  }
}
