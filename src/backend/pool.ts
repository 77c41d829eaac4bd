// A bounded pool of server connections to one PostgreSQL server; clients queue when it is exhausted.
import {
  BackendError,
  ServerConnection,
  type ServerEndpoint,
  type ServerLogin,
} from './server-connection.js';
import { errorCodes } from '../errors.js';
import type { Logger } from '../logger.js';

export interface PoolOptions {
  size: number;
  minIdle: number;
  acquireTimeoutMs: number;
  idleTimeoutMs: number;
  lifetimeMs: number;
  healthCheckIntervalMs: number;
}

interface Waiter {
  resolve: (c: ServerConnection) => void;
  reject: (e: Error) => void;
  since: number;
  /** Unset while the pool is paused: a paused wait is the operator's choice, not a timeout. */
  timer?: NodeJS.Timeout;
}

/** Above this many prepared statements a connection is retired rather than reused. */
const maxPreparedPerConnection = 2000;

export class Pool {
  private idle: ServerConnection[] = [];
  private all = new Set<ServerConnection>();
  private connecting = 0;
  private waiters: Waiter[] = [];
  private maintenance: NodeJS.Timeout;
  private closing = false;
  /** PAUSE from the admin console: connections stay with their holders, nobody gets a new one until resume(). */
  private paused = false;
  /** Server ParameterStatus values, learnt from the first connection, sent to clients at login. */
  serverParams: Map<string, string> | null = null;
  lastError: Error | null = null;
  stats = { acquired: 0, waited: 0, timeouts: 0, created: 0, closed: 0, waitMsTotal: 0 };

  constructor(
    readonly endpoint: ServerEndpoint,
    private readonly login: ServerLogin,
    readonly options: PoolOptions,
    private readonly log: Logger,
  ) {
    this.maintenance = setInterval(() => this.maintain(), 1000);
    this.maintenance.unref();
  }

  get total(): number {
    return this.all.size + this.connecting;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Connections being opened (PgBouncer's sv_login). */
  get connectingCount(): number {
    return this.connecting;
  }

  /** How long the longest-waiting client has waited, in ms (PgBouncer's maxwait). */
  oldestWaitMs(now = Date.now()): number {
    return this.waiters.length > 0 ? now - this.waiters[0].since : 0;
  }

  /** Every open connection and whether it sits idle, for the admin console's SHOW SERVERS. */
  connections(): { conn: ServerConnection; idle: boolean }[] {
    const idle = new Set(this.idle);
    return [...this.all].map((conn) => ({ conn, idle: idle.has(conn) }));
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** New transactions queue (without timing out) until resume(); those holding a connection finish. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const w of this.waiters) if (!w.timer) w.timer = this.waitTimer(w);
    for (let conn = this.idle.pop(); conn; conn = this.idle.pop()) {
      if (this.waiters.length === 0) {
        this.idle.push(conn);
        break;
      }
      this.release(conn);
    }
    this.grow();
  }

  /** An idle connection right away, or null; the fast path for every transaction. */
  tryAcquire(): ServerConnection | null {
    if (this.paused) return null;
    const conn = this.idle.pop();
    if (!conn) return null;
    this.stats.acquired++;
    return conn;
  }

  acquire(): Promise<ServerConnection> {
    const conn = this.tryAcquire();
    if (conn) return Promise.resolve(conn);
    if (this.closing) return Promise.reject(new BackendError('pool is closing', 'adminShutdown'));
    const started = Date.now();
    this.stats.waited++;
    const p = new Promise<ServerConnection>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (c) => {
          this.stats.waitMsTotal += Date.now() - started;
          resolve(c);
        },
        reject,
        since: started,
      };
      if (!this.paused) waiter.timer = this.waitTimer(waiter);
      this.waiters.push(waiter);
    });
    this.grow();
    return p;
  }

  private waitTimer(waiter: Waiter): NodeJS.Timeout {
    return setTimeout(() => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      this.stats.timeouts++;
      const why = this.lastError ? ` (last server error: ${this.lastError.message})` : '';
      waiter.reject(
        new BackendError(
          `timed out after ${this.options.acquireTimeoutMs} ms waiting for a server connection to ` +
            `${this.endpoint.host}:${this.endpoint.port}${why}; raise pool.size or pool.acquire_timeout`,
          this.lastError ? 'connectionFailure' : 'poolTimeout',
        ),
      );
    }, this.options.acquireTimeoutMs);
  }

  /** Returns a clean, idle connection; hands it straight to the longest waiter if there is one. */
  release(conn: ServerConnection): void {
    conn.relay.target = null;
    conn.lastUsedAt = Date.now();
    if (conn.closed) return;
    // A cancel for the last client's statement may still reach the backend: no other client until it did.
    if (conn.whenNoCancels(() => this.release(conn))) return;
    if (
      this.closing ||
      conn.lastUsedAt - conn.createdAt > this.options.lifetimeMs ||
      conn.session.preparedCount > maxPreparedPerConnection
    ) {
      this.destroy(conn);
      this.grow();
      return;
    }
    const waiter = this.paused ? undefined : this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      this.stats.acquired++;
      waiter.resolve(conn);
      return;
    }
    this.idle.push(conn);
  }

  /** Closes a connection whose state cannot be trusted (busy, broken, or too old). */
  destroy(conn: ServerConnection): void {
    conn.relay.target = null;
    this.idle = this.idle.filter((c) => c !== conn);
    if (this.all.delete(conn)) this.stats.closed++;
    conn.close();
    if (this.waiters.length > 0) this.grow();
  }

  /** Opens one connection to learn the server's parameters; throws when the server is unreachable. */
  async ensureParams(): Promise<Map<string, string>> {
    if (this.serverParams) return this.serverParams;
    const conn = await this.acquire();
    this.release(conn);
    return this.serverParams ?? new Map();
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.maintenance);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new BackendError('pool is closing', 'adminShutdown'));
    }
    for (const c of this.idle.splice(0)) this.destroy(c);
  }

  /** Opens connections while clients wait and the pool has room. */
  private grow(): void {
    while (
      !this.closing &&
      !this.paused &&
      this.waiters.length > this.connecting &&
      this.total < this.options.size
    ) {
      this.openOne();
    }
  }

  private openOne(): void {
    this.connecting++;
    ServerConnection.connect(this.endpoint, this.login).then(
      (conn) => {
        this.connecting--;
        this.lastError = null;
        this.stats.created++;
        this.all.add(conn);
        if (!this.serverParams) this.serverParams = new Map(conn.params);
        conn.onClose(() => {
          this.all.delete(conn);
          this.idle = this.idle.filter((c) => c !== conn);
        });
        this.release(conn);
      },
      (err: Error) => {
        this.connecting--;
        this.lastError = err;
        this.log.warn('server connection failed', {
          server: `${this.endpoint.host}:${this.endpoint.port}`,
          err: err.message,
        });
        // Login errors such as a wrong backend password will not fix themselves: fail waiters now.
        const fatal = err instanceof BackendError && err.sqlstate !== errorCodes.connectionFailure.sqlstate;
        if (fatal || this.connecting === 0) {
          for (const w of this.waiters.splice(0)) {
            clearTimeout(w.timer);
            w.reject(err);
          }
        }
      },
    );
  }

  /** Retires idle connections past their idle or lifetime limit, checks long-idle ones, keeps min_idle. */
  private maintain(): void {
    const now = Date.now();
    for (const conn of [...this.idle]) {
      const expired =
        now - conn.createdAt > this.options.lifetimeMs ||
        (now - conn.lastUsedAt > this.options.idleTimeoutMs && this.idle.length > this.options.minIdle);
      if (expired) {
        this.destroy(conn);
      } else if (now - conn.lastUsedAt > this.options.healthCheckIntervalMs) {
        this.healthCheck(conn);
      }
    }
    const missing = this.options.minIdle - this.idle.length - this.connecting;
    for (let i = 0; i < missing && this.total < this.options.size; i++) this.openOne();
  }

  /** Takes an idle connection out, runs an empty query, and returns it or drops it. */
  private healthCheck(conn: ServerConnection): void {
    this.idle = this.idle.filter((c) => c !== conn);
    const timer = setTimeout(() => this.destroy(conn), this.login.connectTimeoutMs);
    conn.query(';').then((error) => {
      clearTimeout(timer);
      if (error || conn.closed) {
        this.log.warn('server failed its health check', {
          server: `${this.endpoint.host}:${this.endpoint.port}`,
          error,
        });
        this.destroy(conn);
      } else {
        this.release(conn);
      }
    });
  }
}
