// What a client session and its backend binding know of each other: the session owns the client, the binding runs its statements.
import type { Duplex } from 'node:stream';
import type { Database } from '../../backend/database.js';
import type { Pool } from '../../backend/pool.js';
import type { ServerConnection } from '../../backend/server-connection.js';
import type { RouteChoice } from '../../backend/shard.js';
import type { ProxyError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { SessionClock } from '../session-clock.js';
import type { SessionStateMachine } from '../session-state.js';

export type { SessionState } from '../session-state.js';

/** A server connection taken at login for a session-pooled client. */
export interface SessionServer {
  conn: ServerConnection;
  pool: Pool;
  choice: RouteChoice;
}

export interface SessionHooks {
  /** Sends a cancel request to the server connection's backend process. */
  cancelServer(conn: ServerConnection): void;
  onClosed(session: { readonly pid: number }): void;
  /** Counts a routing decision (metrics). */
  onRoute?(choice: RouteChoice): void;
}

/** What a binding needs of its client session. */
export interface SessionHost {
  readonly db: Database;
  readonly user: string;
  readonly closed: boolean;
  readonly socket: Duplex;
  readonly startupValues: Map<string, string>;
  readonly log: Logger;
  readonly hooks: SessionHooks;
  /** Statements and transactions of this client, for SHOW CLIENTS. */
  readonly stats: { queries: number; transactions: number };
  readonly clock: SessionClock;
  /** Where the session stands; the binding moves it where a connection, a wait or a plugin call starts or ends. */
  readonly machine: SessionStateMachine;
  /** Ends the session with a FATAL error the client can read. */
  terminate(err: ProxyError): void;
  /** The client left (or was told to go): the session ends and its binding lets go of the backend. */
  gone(): void;
}

/** How a session's statements reach its database: one shard's bytes forwarded, or the engine over several. */
export interface Binding {
  /** The server connection running this client's statement (a cancel request goes there), or null. */
  readonly server: ServerConnection | null;
  /** Why this client keeps its server connection between transactions, or null. */
  readonly pinned: string | null;
  /** Takes a server connection the client holds from its login on (session pooling). */
  hold(server: SessionServer): void;
  /** Bytes the client sent. */
  onData(chunk: Buffer): void;
  /** A statement is running or a transaction is open. */
  busy(): boolean;
  /** The pool's timeouts, checked about once a second. */
  checkTimeouts(now: number): void;
  /** The session ended: give back or roll back what the client held. */
  release(): void;
}
