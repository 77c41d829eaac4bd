// How a client session gets a server connection: routed by the router's rules, taken at once when one is idle,
// waited for otherwise, and tried elsewhere when a replica cannot be reached.
import type { Database } from '../backend/database.js';
import type { Pool } from '../backend/pool.js';
import { BackendError, type ServerConnection } from '../backend/server-connection.js';
import type { RouteChoice } from '../backend/shard.js';
import { errorCodes } from '../errors.js';
import type { StatementInfo } from '../router/classify.js';
import { accessFor, type RouteOverride } from '../router/router.js';
import type { Queued } from './session-plugins.js';
import type { SessionPositions } from './session-positions.js';

const noInfos: readonly StatementInfo[] = [];

/** How many times a read is sent to another server when the one chosen cannot be reached. */
const maxRouteAttempts = 3;

/** What attaching needs of its client session. */
export interface AttachingSession {
  readonly db: Database;
  readonly closed: boolean;
  readonly queue: Queued[];
  readonly positions: SessionPositions;
  readonly override: RouteOverride;
  readonly transactionMode: boolean;
  readonly pinned: string | null;
  readonly serializable: boolean;
  /** Counts a routing decision (metrics). */
  onRoute(choice: RouteChoice): void;
  bind(conn: ServerConnection, pool: Pool, choice: RouteChoice): void;
  pump(): void;
  /** No server could be had: answers every queued request with the error. */
  failQueued(err: Error): void;
}

export class ServerAttach {
  /** A connection is being waited for (or a replica's replay, for read-your-writes). */
  attaching = false;
  /** A route decided for the first queued message, not yet acted on. */
  routed: RouteChoice | null = null;

  constructor(private readonly s: AttachingSession) {}

  /** Routes the waiting statements and takes a server connection for them. */
  attach(attempt = 1, tried?: Set<string>, waited = false): void {
    const choice = this.routed ?? this.route(tried);
    this.routed = null;
    const wait = this.s.db.config.routing.read_your_writes_wait;
    const after = wait > 0 && !waited ? this.s.positions.readAfter(this.queuedInfos()) : null;
    if (choice && after !== null && choice.decision.reason.endsWith('read-your-writes')) {
      // Rather than load the primary, wait a little for a replica to replay this client's last write.
      this.attaching = true;
      this.s.db.shard.waitForReplica(after, wait).then(() => {
        this.attaching = false;
        if (this.s.closed) return;
        this.attach(attempt, tried, true);
        this.s.pump();
      });
      return;
    }
    if (!choice) {
      this.s.failQueued(this.s.db.shard.noPrimaryError());
      return;
    }
    this.s.onRoute(choice);
    const pool = choice.host.pool;
    const conn = pool.tryAcquire();
    if (conn) {
      this.s.bind(conn, pool, choice);
      return;
    }
    this.attaching = true;
    pool.acquire().then(
      (c) => {
        this.attaching = false;
        if (this.s.closed) pool.release(c);
        else {
          this.s.bind(c, pool, choice);
          this.s.pump();
        }
      },
      (err: Error) => {
        this.attaching = false;
        if (this.s.closed) return;
        // A read that has not started yet may run on another server.
        if (
          choice.decision.role === 'replica' &&
          attempt < maxRouteAttempts &&
          err instanceof BackendError &&
          err.sqlstate === errorCodes.connectionFailure.sqlstate
        ) {
          choice.host.monitor.markDown(err.message);
          this.attach(attempt + 1, new Set([...(tried ?? []), choice.host.address]));
          this.s.pump();
          return;
        }
        this.s.failQueued(err);
      },
    );
  }

  /** The server for the queued statements, by the router's rules. */
  route(exclude?: Set<string>, infos: readonly StatementInfo[] = this.queuedInfos()): RouteChoice | null {
    const { access, reason } = accessFor(infos, {
      override: this.s.override,
      sessionPooling: !this.s.transactionMode || this.s.pinned !== null,
    });
    if (access === 'read' && this.s.serializable)
      return this.s.db.shard.choose('write', 'serializable-session', null);
    if (access === 'read' && this.s.positions.writePending()) {
      const primary = this.s.db.shard.choose('write', `${reason},read-your-writes`, null);
      if (primary) return primary;
    }
    return this.s.db.shard.choose(access, reason, this.s.positions.readAfter(infos), exclude);
  }

  private queuedInfos(): StatementInfo[] {
    const infos: StatementInfo[] = [];
    for (const m of this.s.queue) if (m.info) infos.push(m.info);
    return infos;
  }

  /**
   * The common case without copying or queueing: a statement arrives, no server is attached, and an idle
   * connection of the server it routes to is at hand.
   */
  atOnce(info: StatementInfo | null): boolean {
    const infos = info ? [info] : noInfos;
    const choice = this.route(undefined, infos);
    if (
      !choice ||
      (this.s.db.config.routing.read_your_writes_wait > 0 && this.s.positions.readAfter(infos) !== null)
    )
      return false;
    const conn = choice.host.pool.tryAcquire();
    if (!conn) {
      // Keep the decision: routing again would move a balancer on and skew its spread.
      this.routed = choice;
      return false;
    }
    this.s.onRoute(choice);
    this.s.bind(conn, choice.host.pool, choice);
    return true;
  }
}
