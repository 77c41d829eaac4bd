// Accepts client connections, runs their login, and keeps the registry used for cancel and shutdown.
import crypto from 'node:crypto';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { endWith } from '../net/end-with.js';
import { SocketInput } from '../net/socket-input.js';
import { clientTransport } from '../net/process-transport.js';
import type { ClientListener, Transport } from '../net/transport.js';
import type { Database } from '../backend/database.js';
import type { ServerConnection } from '../backend/server-connection.js';
import { BackendError } from '../backend/server-connection.js';
import { ProxyError, errorCodes } from '../errors.js';
import type { Logger } from '../logger.js';
import * as be from '../protocol/backend-messages.js';
import { cancelRequest } from '../protocol/frontend-messages.js';
import { MalformedMessage } from '../protocol/reader.js';
import { DroppedStartup, UnsupportedProtocol, legacyErrorResponse } from '../protocol/startup.js';
import { AuthError } from '../auth/errors.js';
import { adminDatabaseName } from '../config/schema.js';
import { clientLogin, type LoginUser } from './client-login.js';
import { ClientSession, type SessionHooks, type SessionServer } from './client-session.js';
import { refusedSetting } from './setting-names.js';
import { startupValues } from '../backend/server-settings.js';

/** As PostgreSQL's authentication_timeout (60 s by default): a client that never finishes its login is dropped. */
const loginTimeoutMs = 60_000;

export interface ListenerOptions {
  maxStartupBytes: number;
  maxMessageBytes: number;
  maxClients: number;
  /** Connections still logging in (or being refused), beyond which new ones are refused at once. */
  maxLoginsInProgress: number;
  tls: tls.SecureContext | null;
  findUser(name: string): LoginUser | undefined;
  findDatabase(name: string): Database | undefined;
  /** Takes over a logged-in client of the admin database (`adminDatabaseName`); it checks the user is an admin. */
  openAdminConsole?(input: SocketInput, user: string, leftover: Buffer): void;
  /** In a worker process: its number (the low byte of every cancel secret it hands out) and where other workers' cancels go. */
  worker?: { id: number; forwardCancel(pid: number, secret: number): void };
}

/** Where a client connected from, for the admin console's SHOW CLIENTS. */
export interface ClientPeer {
  addr: string;
  port: number;
  tls: boolean;
  applicationName: string;
}

export class Listener {
  readonly sessions = new Map<number, ClientSession>();
  readonly peers = new Map<number, ClientPeer>();
  private server: ClientListener;
  /** Chosen at start: TLS configured later (by a reload) needs a restart to move clients off Bun's sockets. */
  private readonly transport: Transport;
  private sockets = new Set<net.Socket>();
  /** Connections still in login, and refused ones until they close: bounded, and shutdown closes them at once. */
  private loggingIn = new Set<net.Socket>();
  /** Connections refused for want of a login slot, until they close. */
  private refusing = new Set<net.Socket>();
  private refusalLoggedAt = 0;
  private refusedUnlogged = 0;
  private draining = false;

  constructor(
    public options: ListenerOptions,
    private readonly log: Logger,
  ) {
    this.transport = clientTransport(options.tls !== null);
    this.server = this.transport.listener((socket) => this.accept(socket));
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return this.server.listen(host, port);
  }

  get accepting(): boolean {
    return this.server.listening && !this.draining;
  }

  /** Stops accepting, lets open transactions finish, then closes every client; forced after timeoutMs. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.server.close();
    for (const s of this.loggingIn) s.destroy();
    const shutdownError = new ProxyError('adminShutdown', undefined, undefined, 'FATAL');
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < deadline) {
      for (const s of this.sessions.values()) if (!s.inTransaction()) s.terminate(shutdownError);
      if (this.sessions.size > 0) await new Promise((r) => setTimeout(r, 50));
    }
    for (const s of [...this.sessions.values()]) s.terminate(shutdownError);
    for (const s of this.sockets) s.destroy();
  }

  /** Ends the sessions of one database once their transactions finish (its config changed or went away). */
  async drainDatabase(db: Database, timeoutMs: number): Promise<void> {
    const err = new ProxyError(
      'adminShutdown',
      `database "${db.name}" was reconfigured; reconnect`,
      undefined,
      'FATAL',
    );
    const deadline = Date.now() + timeoutMs;
    const mine = () => [...this.sessions.values()].filter((s) => s.db === db);
    while (mine().length > 0 && Date.now() < deadline) {
      for (const s of mine()) if (!s.inTransaction()) s.terminate(err);
      if (mine().length > 0) await new Promise((r) => setTimeout(r, 50));
    }
    for (const s of mine()) s.terminate(err);
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (this.loggingIn.size >= this.options.maxLoginsInProgress) {
      this.refuseOverLimit(socket);
      return;
    }
    this.loggingIn.add(socket);
    socket.once('close', () => this.loggingIn.delete(socket));
    const timer = setTimeout(() => {
      this.log.info('login timed out', { addr: socket.remoteAddress, seconds: loginTimeoutMs / 1000 });
      socket.destroy();
    }, loginTimeoutMs);
    socket.once('close', () => clearTimeout(timer));
    const channel: LoginChannel = { raw: socket, socket };
    this.login(channel).then(
      () => {
        clearTimeout(timer);
        this.loggingIn.delete(socket);
      },
      // A refused socket stays counted (and under the login timeout) until it is closed.
      (err: unknown) => this.rejectLogin(channel, err),
    );
  }

  /**
   * A client beyond the bound of logins in progress is told so at once, as PostgreSQL tells it when it has no
   * room; the sockets being told are bounded too: past as many again, one is closed without a word.
   */
  private refuseOverLimit(socket: net.Socket): void {
    const limit = this.options.maxLoginsInProgress;
    if (this.refusing.size >= limit) {
      socket.destroy();
    } else {
      this.refusing.add(socket);
      socket.once('close', () => this.refusing.delete(socket));
      endWith(socket, be.errorResponse(tooManyClients(limit)));
    }
    // One line a second at most: a flood must not flood the log too.
    this.refusedUnlogged++;
    const now = Date.now();
    if (now - this.refusalLoggedAt < 1000) return;
    this.log.warn('too many logins in progress; connections refused', {
      refused: this.refusedUnlogged,
      limit,
    });
    this.refusalLoggedAt = now;
    this.refusedUnlogged = 0;
  }

  private async login(channel: LoginChannel): Promise<void> {
    const o = this.options;
    const raw = channel.raw;
    const result = await clientLogin(raw, {
      maxStartupBytes: o.maxStartupBytes,
      tls: o.tls,
      findUser: o.findUser,
      onCancel: (pid, secret) => {
        raw.destroy();
        this.cancel(pid, secret);
      },
      onSecure: (secure) => {
        channel.socket = secure;
      },
    });
    if (!result) return;
    // Hold further bytes in the socket until the session reads them (see takeInput).
    result.socket.pause();
    if (this.draining)
      throw new ProxyError('adminShutdown', 'the proxy is shutting down', undefined, 'FATAL');
    if (result.database === adminDatabaseName && o.openAdminConsole) {
      const leftover = Buffer.concat([result.leftover, ...this.drainPaused(result.socket)]);
      o.openAdminConsole(this.takeInput(raw, result.socket), result.user.name, leftover);
      return;
    }
    const db = o.findDatabase(result.database);
    if (!db) {
      throw new ProxyError(
        'unknownDatabase',
        `database "${result.database}" does not exist`,
        'check the database name against the proxy configuration',
        'FATAL',
      );
    }
    if (this.sessions.size >= o.maxClients) {
      throw new ProxyError(
        'tooManyConnections',
        'sorry, too many clients already',
        'raise limits.max_client_connections',
        'FATAL',
      );
    }
    const serverParams = await db.ensureParams();
    const settings = startupValues(result.params);
    const refused = await refusedSetting(db, settings.keys(), this.log);
    if (refused) throw refused;
    const attached = db.mode === 'session' && !db.cluster.sharded ? await sessionServer(db) : undefined;
    if (attached && (raw.destroyed || result.socket.destroyed)) {
      attached.pool.release(attached.conn);
      return;
    }
    // A session-pooled client is told its server's own pid, as PostgreSQL would (its cancels find it too).
    let pid = attached && !this.sessions.has(attached.conn.pid) ? attached.conn.pid : 0;
    while (pid === 0 || this.sessions.has(pid)) pid = crypto.randomInt(1, 0x7fffffff);
    const log = this.log.child({ client: pid, user: result.user.name, database: db.name });
    const leftover = Buffer.concat([result.leftover, ...this.drainPaused(result.socket)]);
    // The session binds to the database's shape: one shard forwards, several go through the engine.
    const session = new ClientSession(
      this.takeInput(raw, result.socket),
      db,
      result.user.name,
      pid,
      o.worker ? (crypto.randomInt(0, 0x800000) << 8) | o.worker.id : crypto.randomInt(0, 0x7fffffff),
      settings,
      o.maxMessageBytes,
      log,
      this.sessionHooks,
    );
    this.sessions.set(pid, session);
    this.peers.set(pid, {
      addr: raw.remoteAddress ?? '',
      port: raw.remotePort ?? 0,
      tls: result.socket !== raw,
      applicationName: result.params.get('application_name') ?? '',
    });
    session.start(serverParams, leftover, attached);
    log.debug('client connected');
  }

  /** What a session asks of the registry (a cancel for its server) and tells it (it closed). */
  private readonly sessionHooks: SessionHooks = {
    cancelServer: (conn) => this.cancelServer(conn, () => true),
    onClosed: (s) => {
      this.sessions.delete(s.pid);
      this.peers.delete(s.pid);
    },
  };

  /** Plain TCP clients move to a reused read buffer; TLS clients keep their stream. */
  private takeInput(raw: net.Socket, socket: Duplex): SocketInput {
    if (socket !== raw) return SocketInput.stream(socket);
    this.sockets.delete(raw);
    const input = this.transport.adopt(raw);
    const adopted = input.socket as net.Socket;
    this.sockets.add(adopted);
    adopted.once('close', () => this.sockets.delete(adopted));
    adopted.on('error', () => {});
    return input;
  }

  /** Bytes that arrived after login while the socket was paused. */
  private drainPaused(socket: Duplex): Buffer[] {
    const chunks: Buffer[] = [];
    for (let c = socket.read() as Buffer | null; c !== null; c = socket.read() as Buffer | null)
      chunks.push(c);
    return chunks;
  }

  /** Ends a login that failed: silently where PostgreSQL closes silently, else with its error, and always closed. */
  private rejectLogin(channel: LoginChannel, err: unknown): void {
    const { raw, socket } = channel;
    const addr = raw.remoteAddress;
    if (err instanceof DroppedStartup) {
      this.log[err.quiet ? 'debug' : 'info']('connection closed during login', { addr, reason: err.message });
      socket.destroy();
      raw.destroy();
      return;
    }
    if (err instanceof UnsupportedProtocol && err.legacy) {
      const sqlstate = errorCodes.featureNotSupported.sqlstate;
      this.log.info('login rejected', { addr, sqlstate, reason: err.message });
      endWith(socket, legacyErrorResponse(err.message));
      return;
    }
    let pe: ProxyError;
    if (err instanceof ProxyError) pe = err;
    else if (err instanceof UnsupportedProtocol)
      pe = new ProxyError('featureNotSupported', err.message, undefined, 'FATAL');
    else if (err instanceof AuthError)
      pe = new ProxyError(err.code, `authentication failed: ${err.message}`, undefined, 'FATAL');
    else if (err instanceof MalformedMessage)
      pe = new ProxyError('protocolViolation', err.message, undefined, 'FATAL');
    else if (err instanceof BackendError)
      pe = new ProxyError(
        'backendUnavailable',
        err.message,
        'check that the database server is running',
        'FATAL',
      );
    else {
      this.log.error('login failed', { err: String(err) });
      pe = new ProxyError('internalError', 'internal error during login', undefined, 'FATAL');
    }
    this.log.info('login rejected', { addr, sqlstate: pe.sqlstate, reason: pe.message });
    // Through the TLS socket once TLS is up: a plain-text error there reads as "wrong version number".
    endWith(
      socket,
      be.errorResponse({ severity: 'FATAL', sqlstate: pe.sqlstate, message: pe.message, hint: pe.hint }),
    );
  }

  /**
   * Forwards a client's cancel to the server running its statement, and only while it still runs it; in a
   * worker, a cancel whose secret names another worker goes there through the primary process.
   */
  cancel(pid: number, secret: number): void {
    const worker = this.options.worker;
    if (worker && (secret & 0xff) !== worker.id) return worker.forwardCancel(pid, secret);
    const session = this.sessions.get(pid);
    if (!session || session.secret !== secret) return;
    const conn = session.server;
    if (!conn || !conn.relay.busy()) return;
    const epoch = conn.relay.recvEpoch;
    this.cancelServer(
      conn,
      () => session.server === conn && conn.relay.recvEpoch === epoch && conn.relay.busy(),
    );
  }

  private cancelServer(conn: ServerConnection, stillValid: () => boolean): void {
    const s = net.connect({ host: conn.endpoint.host, port: conn.endpoint.port });
    s.on('error', () => {});
    s.once('connect', () => {
      // Re-checked after connecting: the statement may have finished and the connection moved on.
      if (!stillValid()) return s.destroy();
      // PostgreSQL closes the socket once it has signalled the backend; until then the connection
      // goes to no other client (a frozen server gets cancelWaitMs).
      const done = conn.cancelSent();
      s.once('close', done);
      s.setTimeout(cancelWaitMs, () => s.destroy());
      s.end(cancelRequest(conn.pid, conn.secret));
    });
  }
}

/** The primary's server connection a session-pooled client holds from its login on. */
async function sessionServer(db: Database): Promise<SessionServer> {
  const choice = db.shard.choose('write', 'session-pooling', null);
  if (!choice)
    throw new ProxyError('backendUnavailable', db.shard.noPrimaryError().message, undefined, 'FATAL');
  try {
    return { conn: await choice.host.pool.acquire(), pool: choice.host.pool, choice };
  } catch (err) {
    if (err instanceof BackendError && err.sqlstate === errorCodes.poolTimeout.sqlstate)
      throw new ProxyError('poolTimeout', err.message, 'raise the session pool size', 'FATAL');
    throw err;
  }
}

/** How long a cancel request's socket may stay open before the connection is released anyway. */
const cancelWaitMs = 5_000;

/** The socket a login talks through: the accepted one, then its TLS socket once TLS is up. */
interface LoginChannel {
  raw: net.Socket;
  socket: Duplex;
}

/** PostgreSQL's answer when it has no room for another connection. */
function tooManyClients(limit: number): be.NoticeFields {
  return {
    severity: 'FATAL',
    sqlstate: errorCodes.tooManyConnections.sqlstate,
    message: 'sorry, too many clients already',
    hint: `more than ${limit} connections are logging in; raise limits.max_logins_in_progress`,
  };
}
