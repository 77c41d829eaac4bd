// One authenticated connection to a PostgreSQL server, relaying replies to whichever client holds it.
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import { errorCodes, type ErrorCode } from '../errors.js';
import { ScramClientSession } from '../auth/scram.js';
import { md5Response } from '../auth/md5.js';
import { AuthType, Backend } from '../protocol/codes.js';
import { MessageFramer } from '../protocol/framer.js';
import * as fe from '../protocol/frontend-messages.js';
import { MessageReader } from '../protocol/reader.js';
import { ResponseRelay, errorMessageOf } from './response-relay.js';
import { ServerSessionState } from './server-session-state.js';
import { SocketInput } from '../net/socket-input.js';
import { processTransport } from '../net/process-transport.js';
import type { Duplex } from 'node:stream';

export interface ServerEndpoint {
  host: string;
  port: number;
}

export interface ServerLogin {
  user: string;
  password: string;
  database: string;
  tls: { mode: 'disable' | 'prefer' | 'require' | 'verify-full'; ca?: string };
  connectTimeoutMs: number;
  /** Extra startup parameters, such as application_name. */
  params?: Record<string, string>;
}

export class BackendError extends Error {
  readonly sqlstate: string;
  /** `code` says what failed, from the registry; `serverSqlstate` is the server's own when it gave one. */
  constructor(message: string, code: ErrorCode = 'connectionFailure', serverSqlstate?: string) {
    super(message);
    this.sqlstate = serverSqlstate ?? errorCodes[code].sqlstate;
  }
}

let nextId = 1;

export class ServerConnection {
  readonly id = nextId++;
  readonly relay = new ResponseRelay();
  /**
   * What the proxy knows of this server session (prepared statements, applied settings, whose unnamed
   * statement it holds: under transaction pooling a client's Bind of the unnamed statement may reach a
   * connection whose unnamed statement another client defined).
   */
  readonly session = new ServerSessionState();
  /** ParameterStatus values as this server last reported them. */
  readonly params = new Map<string, string>();
  /** Cancel requests sent for this connection's backend whose socket the server has not closed yet. */
  private cancelsInFlight = 0;
  private afterCancels: (() => void)[] = [];
  pid = 0;
  secret = 0;
  readonly createdAt = Date.now();
  lastUsedAt = Date.now();
  closed = false;
  private closeHandlers: ((err?: Error) => void)[] = [];

  private constructor(
    readonly endpoint: ServerEndpoint,
    private readonly input: SocketInput,
  ) {
    this.socket = input.socket;
  }

  /** Exposed for flow control only: clients pause it while their socket drains. */
  readonly socket: Duplex;

  static async connect(endpoint: ServerEndpoint, login: ServerLogin): Promise<ServerConnection> {
    const input = await openSocket(endpoint, login);
    const conn = new ServerConnection(endpoint, input);
    try {
      await conn.handshake(login);
    } catch (err) {
      input.socket.destroy();
      throw err;
    }
    conn.attach();
    return conn;
  }

  /** A cancel request for this backend is on its way: until its socket closes the signal may still land. */
  cancelSent(): () => void {
    this.cancelsInFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.cancelsInFlight > 0) return;
      for (const fn of this.afterCancels.splice(0)) fn();
    };
  }

  /**
   * Runs fn once no cancel request for this backend is in flight: PostgreSQL signals the backend
   * after it read the request, and a signal that lands once another client's statement runs there
   * would cancel that one.
   */
  whenNoCancels(fn: () => void): boolean {
    if (this.cancelsInFlight === 0) return false;
    this.afterCancels.push(fn);
    return true;
  }

  write(b: Buffer): boolean {
    return this.socket.write(b);
  }

  /** Applies backpressure from a slow client. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  onClose(handler: (err?: Error) => void): void {
    this.closeHandlers.push(handler);
  }

  query(sql: string): Promise<string | undefined> {
    // A simple query drops the server's unnamed statement.
    this.session.unnamedDropped();
    return this.relay.internalQuery((b) => this.write(b), fe.query(sql));
  }

  /** Runs a query of the proxy's own and returns its first row as text. */
  queryRow(sql: string): Promise<{ error?: string; row?: (string | null)[] }> {
    this.session.unnamedDropped();
    return this.relay.internalQueryRow((b) => this.write(b), fe.query(sql));
  }

  close(): void {
    if (this.closed) return;
    this.socket.end(fe.terminate);
    this.socket.destroy();
  }

  private attach(): void {
    this.input.handler = (chunk) => this.relay.process(chunk);
    // An idle connection that hears from its server (a FATAL before it exits) is of no further use.
    this.relay.onIdleError = () => this.close();
    this.socket.on('end', () => this.socket.destroy());
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      this.relay.abort('server connection closed');
      this.relay.target?.onServerLost();
      for (const h of this.closeHandlers) h(new BackendError('server connection closed'));
    });
  }

  /** Answers one authentication request of the server's; the SCRAM exchange in progress, if any. */
  private authenticate(
    login: ServerLogin,
    r: MessageReader,
    scram: ScramClientSession | null,
  ): ScramClientSession | null {
    const socket = this.socket;
    const kind = r.int32();
    if (kind === AuthType.Ok) return scram;
    if (kind === AuthType.CleartextPassword) socket.write(fe.passwordMessage(login.password));
    else if (kind === AuthType.MD5Password) {
      socket.write(fe.passwordMessage(md5Response(login.user, login.password, r.bytes(4))));
    } else if (kind === AuthType.SASL) {
      const mechanisms: string[] = [];
      for (let m = r.cstring(); m !== ''; m = r.cstring()) mechanisms.push(m);
      if (!mechanisms.includes('SCRAM-SHA-256')) {
        throw new BackendError(`server offers no supported SASL mechanism (${mechanisms.join(', ')})`);
      }
      const session = new ScramClientSession(login.password);
      socket.write(fe.saslInitialResponse('SCRAM-SHA-256', session.clientFirst()));
      return session;
    } else if (kind === AuthType.SASLContinue && scram) {
      socket.write(fe.saslResponse(scram.handleServerFirst(r.rest().toString())));
    } else if (kind === AuthType.SASLFinal && scram) {
      scram.verifyServerFinal(r.rest().toString());
    } else {
      throw new BackendError(`unsupported authentication request ${kind} from server`);
    }
    return scram;
  }

  /** Startup and authentication, then BackendKeyData and ParameterStatus until ReadyForQuery. */
  private handshake(login: ServerLogin): Promise<void> {
    const socket = this.socket;
    const framer = new MessageFramer(1 << 20);
    let scram: ScramClientSession | null = null;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new BackendError('timed out during server login')),
        login.connectTimeoutMs,
      );
      const fail = (err: Error) => {
        clearTimeout(timer);
        this.input.handler = () => {};
        reject(err);
      };
      // A server that resets the connection mid-login (one shutting down, say) emits 'error' before 'close':
      // without this listener that error would be thrown out of the event loop and end the process.
      const onError = (err: Error) =>
        fail(new BackendError(`server connection failed during login: ${err.message}`));
      socket.on('error', onError);
      const onMessage = (type: number, buf: Buffer, start: number, end: number) => {
        const r = new MessageReader(buf, start + 5, end);
        switch (type) {
          case Backend.Authentication:
            scram = this.authenticate(login, r, scram);
            return;
          case Backend.BackendKeyData:
            this.pid = r.int32();
            this.secret = r.int32();
            return;
          case Backend.ParameterStatus:
            this.params.set(r.cstring(), r.cstring());
            return;
          case Backend.ErrorResponse: {
            const body = buf.subarray(start + 5, end);
            const code = sqlstateOf(body);
            throw new BackendError(
              `server refused login: ${errorMessageOf(body)}`,
              'connectionFailure',
              code,
            );
          }
          case Backend.ReadyForQuery:
            clearTimeout(timer);
            this.input.handler = () => {};
            socket.removeAllListeners('close');
            socket.removeListener('error', onError);
            resolve();
            return;
        }
      };
      this.input.handler = (chunk) => {
        try {
          framer.feed(chunk, onMessage);
        } catch (err) {
          fail(err instanceof Error ? err : new BackendError(String(err)));
        }
      };
      socket.once('close', () => fail(new BackendError('server closed the connection during login')));
      socket.write(fe.startupMessage({ user: login.user, database: login.database, ...login.params }));
    });
  }
}

function sqlstateOf(body: Buffer): string | undefined {
  const r = new MessageReader(body, 0, body.length);
  while (r.remaining() > 1) {
    const field = r.int8();
    const value = r.cstring();
    if (field === 0x43) return value;
  }
  return undefined;
}

/** TCP connect (reading into a reused buffer), or TLS when the login asks for it and the server agrees. */
function openSocket(endpoint: ServerEndpoint, login: ServerLogin): Promise<SocketInput> {
  return new Promise((resolve, reject) => {
    const plain = login.tls.mode === 'disable';
    const input = plain ? processTransport().connect(endpoint.host, endpoint.port) : null;
    const socket = input
      ? (input.socket as net.Socket)
      : net.connect({ host: endpoint.host, port: endpoint.port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new BackendError(`timed out connecting to ${endpoint.host}:${endpoint.port}`));
    }, login.connectTimeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new BackendError(`cannot connect to ${endpoint.host}:${endpoint.port}: ${err.message}`));
    });
    socket.once('connect', () => {
      if (input) {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(input);
        return;
      }
      socket.write(fe.sslRequest);
      socket.once('data', (answer: Buffer) => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        // From here the TLS socket (or, without TLS, the login) reports failures; the raw socket must never
        // throw one out of the event loop.
        socket.on('error', () => {});
        if (answer[0] !== 0x53) {
          if (login.tls.mode === 'prefer') return resolve(SocketInput.stream(socket));
          socket.destroy();
          return reject(new BackendError(`server ${endpoint.host}:${endpoint.port} does not accept TLS`));
        }
        const verify = login.tls.mode === 'verify-full';
        const secure = tls.connect({
          socket,
          servername: net.isIP(endpoint.host) ? undefined : endpoint.host,
          rejectUnauthorized: verify,
          ca: login.tls.ca ? fs.readFileSync(login.tls.ca) : undefined,
        });
        secure.once('secureConnect', () => resolve(SocketInput.stream(secure)));
        secure.on('error', (err) =>
          reject(new BackendError(`TLS to ${endpoint.host}:${endpoint.port} failed: ${err.message}`)),
        );
      });
    });
  });
}
