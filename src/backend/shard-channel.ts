// A pooled server connection the sharded session talks to message by message, collecting each reply round.
import type { Pool } from './pool.js';
import type { RelayTarget } from './response-relay.js';
import type { ServerConnection } from './server-connection.js';
import { Backend } from '../protocol/codes.js';
import { MessageFramer } from '../protocol/framer.js';

export interface BackendMessage {
  type: number;
  /** The message body (after type and length), copied out of the connection's read buffer. */
  body: Buffer;
}

/** Every reply message of one round (a Query or the messages up to a Sync) and the final status. */
export interface Round {
  messages: BackendMessage[];
  status: number;
}

interface Pending {
  messages: BackendMessage[];
  resolve: (r: Round) => void;
  reject: (e: Error) => void;
  /** Sees messages as they arrive (COPY needs CopyInResponse before the round ends). */
  watch?: (m: BackendMessage) => void;
}

export class ChannelLost extends Error {}

/** Takes a passthrough round's reply: its bytes as they arrive, then the end of the round. */
export interface ReplySink {
  forward(chunk: Buffer): void;
  done(err: Error | null, status: number): void;
}

export class ShardChannel implements RelayTarget {
  /** Frames the replies of round(): made on the first, as a passthrough round's channel needs none. */
  private framer: MessageFramer | null = null;
  private readonly rounds: Pending[] = [];
  lost = false;
  /** Passthrough rounds in flight, oldest first: their bytes go straight to the client, round after round. */
  private readonly forwards: ReplySink[] = [];
  /** The transaction status the server last reported. */
  status = 0x49;
  /** Rewrites this connection's errors before anyone reads them (a deadlock victim's cancel becomes 40P01). */
  rewriteError?: (body: Buffer) => Buffer | null;

  constructor(
    readonly shard: number,
    readonly conn: ServerConnection,
    private readonly pool: Pool,
  ) {
    conn.relay.target = this;
  }

  get address(): string {
    return `${this.conn.endpoint.host}:${this.conn.endpoint.port}`;
  }

  /** Writes messages that end in one Sync or one Query, and resolves with their replies. */
  round(messages: Buffer[], watch?: (m: BackendMessage) => void): Promise<Round> {
    if (this.lost) return Promise.reject(new ChannelLost(`connection to shard ${this.shard} was lost`));
    return new Promise((resolve, reject) => {
      this.rounds.push({ messages: [], resolve, reject, watch });
      this.conn.relay.sendEpoch++;
      this.conn.write(messages.length === 1 ? messages[0] : Buffer.concat(messages));
    });
  }

  /**
   * Sends a client's own messages and streams the reply bytes, ReadyForQuery included, to `forward` as they
   * arrive, undecoded: the fast path for a statement that runs on this one shard as it is.
   */
  passthrough(message: Buffer, forward: (chunk: Buffer) => void): Promise<number> {
    return new Promise((resolve, reject) =>
      this.relay(message, {
        forward,
        done: (err, status) => (err ? reject(err) : resolve(status)),
      }),
    );
  }

  /**
   * passthrough() to a sink, for callers that avoid promises and closures on the hot path. A round sent
   * while earlier ones are still answered is pipelined: its reply follows theirs, each ended by its own
   * ReadyForQuery.
   */
  relay(message: Buffer, sink: ReplySink): void {
    if (this.lost) {
      sink.done(new ChannelLost(`connection to shard ${this.shard} was lost`), 0);
      return;
    }
    this.forwards.push(sink);
    this.conn.relay.sendEpoch++;
    this.conn.write(message);
  }

  /** Bytes inside a round already started (CopyData, CopyDone). */
  write(b: Buffer): void {
    if (!this.lost) this.conn.write(b);
  }

  /** Returns the connection to its pool, or closes it when it is mid-statement or in a transaction. */
  release(): void {
    this.conn.relay.target = null;
    if (this.lost || this.conn.closed || this.rounds.length > 0 || this.status !== 0x49)
      this.pool.destroy(this.conn);
    else this.pool.release(this.conn);
  }

  // RelayTarget: the relay streams the server's bytes here.

  send(chunk: Buffer): void {
    const f = this.forwards[0];
    if (f) {
      f.forward(chunk);
      return;
    }
    this.framer ??= new MessageFramer(1 << 30);
    this.framer.feed(chunk, (type, buf, start, end) => {
      const m = { type, body: Buffer.from(buf.subarray(start + 5, end)) };
      const r = this.rounds[0];
      if (!r) return;
      r.watch?.(m);
      if (type === Backend.ReadyForQuery) {
        this.rounds.shift();
        this.status = m.body[0];
        r.resolve({ messages: r.messages, status: m.body[0] });
        return;
      }
      r.messages.push(m);
    });
  }

  /** The relay saw ReadyForQuery (already forwarded): the oldest passthrough round is over. */
  onReady(status: number): void {
    const f = this.forwards.shift();
    if (!f) return;
    this.status = status;
    f.done(null, status);
  }

  onParameterStatus(): void {}

  onServerLost(): void {
    this.lost = true;
    for (const f of this.forwards.splice(0))
      f.done(new ChannelLost(`connection to shard ${this.shard} was lost`), 0);
    for (const r of this.rounds.splice(0))
      r.reject(new ChannelLost(`connection to shard ${this.shard} was lost`));
  }
}
