// The binding of a database of several shards: the engine answers the protocol, routing each statement to its shards.
import type { ServerConnection } from '../../backend/server-connection.js';
import { ProxyError } from '../../errors.js';
import { Frontend } from '../../protocol/codes.js';
import { FramingError, MessageFramer } from '../../protocol/framer.js';
import { MalformedMessage } from '../../protocol/reader.js';
import { ClientMessage } from '../rounds/passthrough-round.js';
import type { Binding, SessionHost } from './binding.js';
import { EnginePlugins } from './engine/engine-plugins.js';
import { settleEngine } from './engine/engine-session-state.js';
import { EngineState } from './engine/engine-state.js';
import { ExtendedMessages } from './engine/extended.js';
import { FastRound } from './engine/fast-round.js';
import { seedEngine, type CarriedSession } from './forward-handover.js';
import { SimpleQuery } from './engine/simple-query.js';

/**
 * Statements run in order; one for a single shard may go by the fast path as the client's bytes, and rounds
 * behind it for the same shard connection are pipelined there. Anything else runs one at a time.
 */
export class EngineBinding implements Binding {
  readonly pinned = null;
  private readonly s: EngineState;
  private readonly framer: MessageFramer;
  private readonly plugins: EnginePlugins;
  private readonly fast: FastRound;
  private readonly simple: SimpleQuery;
  private readonly extended: ExtendedMessages;

  constructor(
    private readonly host: SessionHost,
    maxMessageBytes: number,
  ) {
    this.framer = MessageFramer.client(maxMessageBytes);
    const s = (this.s = new EngineState(host));
    s.pump = () => this.pumpInbox();
    this.plugins = new EnginePlugins(s);
    this.fast = new FastRound(s);
    this.simple = new SimpleQuery(s, this.plugins);
    this.extended = new ExtendedMessages(s, this.plugins);
  }

  get server(): ServerConnection | null {
    return this.s.server;
  }

  /** A session moved here from the forward binding (a reshard made its database sharded): its state carries. */
  seed(carried: CarriedSession): void {
    seedEngine(this.s, carried);
  }

  /** Session pooling holds no connection at login here: each statement takes its shards' connections. */
  hold(): void {}

  busy(): boolean {
    return this.s.running || this.s.inbox.length > 0 || this.s.runner.block !== null;
  }

  /**
   * The pool's timeouts. query_timeout: a statement running past it is cancelled on every shard connection
   * it runs on (the first shard to stop answers the client, the others stop with it), and a shard that
   * answers neither the statement nor its cancel gets its connection closed (08006 for the statement).
   * idle_transaction_timeout: a client idle in an open block past it is disconnected and its block rolled
   * back on every shard (release()), so it holds no shard's locks.
   */
  checkTimeouts(now: number): void {
    const s = this.s;
    const conns = s.statementConnections();
    if (conns.length > 0) return this.checkQueryTimeout(now, conns);
    const idle = s.runner.block !== null && !s.running && s.inbox.length === 0 && !s.inPlugin;
    if (!idle) return;
    if (this.host.clock.due(now, this.host.db.config.pool, false, true) !== 'disconnect') return;
    this.host.log.info('client idle in transaction past idle_transaction_timeout; disconnecting it');
    this.host.terminate(new ProxyError('idleInTransactionTimeout', undefined, undefined, 'FATAL'));
  }

  private checkQueryTimeout(now: number, conns: ServerConnection[]): void {
    const s = this.s;
    // The shards wait for the client: COPY data it has not sent, or a reply it does not read.
    const holding = s.waiter !== null || s.runner.replyHeld;
    const pids = conns.map((c) => c.pid);
    switch (this.host.clock.due(now, this.host.db.config.pool, holding, false)) {
      case 'cancel':
        this.host.log.warn('statement ran past query_timeout; cancelling it on every shard', { pids });
        for (const c of conns) {
          s.cancelled.add(c);
          this.host.hooks.cancelServer(c);
        }
        return;
      case 'close':
        this.host.log.warn(
          'shards answered neither the statement nor its cancel; closing their connections',
          {
            pids,
          },
        );
        for (const c of conns) c.close();
    }
  }

  /** The client is gone: its open transaction rolls back on every shard, and plugin work joined to it. */
  release(): void {
    this.s.runner.close().catch(() => {});
    this.plugins.abandon();
  }

  onData(chunk: Buffer): void {
    const s = this.s;
    this.host.clock.lastClientAt = Date.now();
    if (!s.running && s.inbox.length === 0 && this.framer.atBoundary && this.fast.startDirect(chunk))
      return settleEngine(s);
    try {
      // One copy per chunk, not per message: messages outlive the socket's reused read buffer, and those of
      // one round stay side by side, so the round can go to its shard as one view of that copy.
      this.framer.feed(Buffer.from(chunk), (type, buf, start, end) => {
        const m = new ClientMessage(type, buf, start, end);
        if (s.waiter) {
          const w = s.waiter;
          s.waiter = null;
          w(m);
        } else s.inbox.push(m);
      });
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.host.terminate(new ProxyError('protocolViolation', err.message));
      return;
    }
    this.pumpInbox();
  }

  /** Starts what waits: the first message on the fast path when it can go there, else the general path. */
  private pumpInbox(): void {
    const s = this.s;
    // A statement ended (the fast path's, with nothing behind it), or a message arrived: the state follows.
    if (this.host.closed || s.inbox.length === 0) return settleEngine(s);
    let started = false;
    try {
      // Rounds behind the fast path's in flight may be pipelined after them; else they wait their turn.
      if (s.running) return this.fast.appendWaiting();
      started = this.fast.startFast();
      if (started) this.fast.appendWaiting();
      settleEngine(s);
    } catch (err) {
      // A malformed message, say: nothing was consumed, and the general path answers it with its error.
      // Anything else is a fault of the fast path; it must not escape into the socket's read callback.
      if (!(err instanceof MalformedMessage))
        s.log.error('fast path failed', { err: err instanceof Error ? err.stack : String(err) });
    }
    if (!started) void this.drain();
  }

  private async drain(): Promise<void> {
    const s = this.s;
    if (s.running) return;
    s.running = true;
    settleEngine(s);
    try {
      while (s.inbox.length > 0 && !this.host.closed) await this.handle(s.inbox.shift()!);
    } catch (err) {
      s.log.error('sharded session failed', { err: err instanceof Error ? err.stack : String(err) });
      this.host.terminate(new ProxyError('internalError', 'internal error in the sharded session'));
    } finally {
      s.running = false;
      settleEngine(s);
    }
  }

  private async handle(m: ClientMessage): Promise<void> {
    const s = this.s;
    if (m.type === Frontend.Terminate) {
      s.socket.end();
      this.host.gone();
      return;
    }
    if (m.type === Frontend.Query) {
      s.statementsByName.delete('');
      if (await this.plugins.answeredFromCache(m)) return;
      // A forwarded statement's reply carried its own ReadyForQuery.
      if (!(await this.simple.run(m.text(), m))) await s.settledReady();
      return;
    }
    if (m.type === Frontend.Sync) {
      s.skipping = false;
      await s.settledReady();
      return;
    }
    if (m.type === Frontend.Flush) return s.flushOut();
    if (s.skipping) return;
    try {
      const starts = m.type === Frontend.Parse || m.type === Frontend.Bind;
      if (starts && ((await this.plugins.answeredFromCache(m)) || (await this.fast.roundThrough(m)))) return;
      await this.extended.handle(m);
    } catch (err) {
      s.skipping = true;
      s.sendError(err);
    }
  }
}
