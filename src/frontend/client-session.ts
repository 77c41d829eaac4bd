// A logged-in client: its socket, login, state and clock; its statements go through its database's backend binding.
import type { Duplex } from 'node:stream';
import type { Database } from '../backend/database.js';
import type { ServerConnection } from '../backend/server-connection.js';
import type { ProxyError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SocketInput } from '../net/socket-input.js';
import * as be from '../protocol/backend-messages.js';
import { TxStatus } from '../protocol/codes.js';
import { greetingSettings } from './greeting.js';
import { SessionClock } from './session-clock.js';
import { SessionStateMachine, State } from './session-state.js';
import type { Binding, SessionHooks, SessionServer, SessionState } from './bindings/binding.js';
import { EngineBinding } from './bindings/engine-binding.js';
import { ForwardBinding } from './bindings/forward-binding.js';
import { carriedFrom } from './bindings/forward-handover.js';
import { ForwardRebind } from './forward-rebind.js';

export type { SessionHooks, SessionServer, SessionState } from './bindings/binding.js';

export class ClientSession {
  readonly connectedAt = Date.now();
  closed = false;
  readonly stats = { queries: 0, transactions: 0 };
  /** When the client last sent, and since when the server owes a reply: for the pool timeouts. */
  readonly clock = new SessionClock();
  /** Where the session stands, set by its binding where that changes (SHOW CLIENTS reads it). */
  readonly machine: SessionStateMachine;
  readonly socket: Duplex;
  /** One shard: the client's bytes are forwarded; several: the engine answers the protocol. */
  private binding: Binding;
  /** While forwarding: a reshard may make the database sharded in place, and move the session to the engine. */
  private rebind: ForwardRebind | null = null;

  constructor(
    private readonly input: SocketInput,
    readonly db: Database,
    readonly user: string,
    readonly pid: number,
    readonly secret: number,
    readonly startupValues: Map<string, string>,
    private readonly maxMessageBytes: number,
    readonly log: Logger,
    readonly hooks: SessionHooks,
  ) {
    this.socket = input.socket;
    this.machine = new SessionStateMachine(log);
    if (db.cluster.sharded) this.binding = new EngineBinding(this, maxMessageBytes);
    else {
      const forward = new ForwardBinding(this, maxMessageBytes);
      this.binding = forward;
      this.rebind = new ForwardRebind(this, forward);
    }
  }

  /** The client's bytes, to the binding serving the session (a reshard's gate may hold them first). */
  onData(chunk: Buffer): void {
    const rebind = this.rebind;
    if (rebind !== null && rebind.due && rebind.take(chunk)) return;
    this.binding.onData(chunk);
  }

  /**
   * Its database became sharded in place (a reshard's switch): between transactions, the session goes on
   * through the engine with its prepared statements, settings, route and read-your-writes state.
   */
  moveToEngine(): void {
    const forward = this.binding as ForwardBinding;
    const engine = new EngineBinding(this, this.maxMessageBytes);
    engine.seed(carriedFrom(forward));
    // Between transactions it holds no server: this drops its plugin steps only.
    forward.release();
    this.binding = engine;
    this.rebind = null;
    this.log.info('database sharded in place: the session goes through the engine now');
  }

  /** The server connection running this client's statement (cancel requests go there), or null. */
  get server(): ServerConnection | null {
    return this.binding.server;
  }

  /** Why this client keeps its server connection between transactions (session pooling or state), or null. */
  get pinned(): string | null {
    return this.binding.pinned;
  }

  get state(): SessionState {
    return this.machine.name;
  }

  /**
   * Completes the login with the server's parameters and starts serving queries. `attached` is the
   * server connection a session-pooled client holds from its login on (its pid is the one announced).
   */
  start(serverParams: Map<string, string>, leftover: Buffer, attached?: SessionServer): void {
    if (attached) this.binding.hold(attached);
    const parts: Buffer[] = [];
    for (const [k, v] of greetingSettings(serverParams, this.startupValues))
      parts.push(be.parameterStatus(k, v));
    parts.push(be.backendKeyData(this.pid, this.secret), be.readyForQuery(TxStatus.Idle));
    this.socket.write(Buffer.concat(parts));
    this.input.handler = (chunk) => this.onData(chunk);
    this.socket.on('close', () => this.gone());
    this.socket.on('error', () => {});
    if (leftover.length > 0) this.onData(leftover);
  }

  /** Busy means a statement is running or a transaction is open. */
  inTransaction(): boolean {
    return this.binding.busy();
  }

  /** Ends the session with a FATAL error the client can read. */
  terminate(err: ProxyError): void {
    if (this.closed) return;
    this.socket.write(
      be.errorResponse({ severity: 'FATAL', sqlstate: err.sqlstate, message: err.message, hint: err.hint }),
    );
    this.socket.end();
    this.gone();
  }

  /** The pool's timeouts, checked about once a second. */
  checkTimeouts(now: number): void {
    if (!this.closed) this.binding.checkTimeouts(now);
  }

  /** The client left or was told to go: what it held on the backend is given back or rolled back. */
  gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.machine.enter(State.closed);
    this.socket.destroy();
    this.hooks.onClosed(this);
    this.binding.release();
  }
}
