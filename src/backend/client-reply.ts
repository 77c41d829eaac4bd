// The fast path's reply stream: a shard's reply bytes to the client, with flow control, then the connection back.
import type { Duplex } from 'node:stream';
import { writeOrHold } from '../net/socket-input.js';
import type { ReplySink, ShardChannel } from './shard-channel.js';

/**
 * Streams a passthrough round's reply to the client with flow control, then releases the shard connection
 * and reports: the chunk lies in the connection's read buffer, so that socket waits until the client took it.
 */
export class ClientReply implements ReplySink {
  private channel: ShardChannel | null = null;
  private client: Duplex | null = null;
  private onDone: ((err: Error | null) => void) | null = null;
  /** Writes the client has not yet drained; the round ends only after the last. */
  private holding = 0;
  private ended: Error | null | undefined;
  private readonly resumed = () => {
    if (--this.holding === 0 && this.ended !== undefined) this.finish();
  };

  constructor(private readonly stopped: () => void) {}

  /** Some of the reply waits for the client to read it. */
  get held(): boolean {
    return this.holding > 0;
  }

  start(channel: ShardChannel, client: Duplex, done: (err: Error | null) => void): void {
    this.channel = channel;
    this.client = client;
    this.onDone = done;
    this.holding = 0;
    this.ended = undefined;
  }

  forward(chunk: Buffer): void {
    if (writeOrHold(this.client!, chunk, this.channel!.conn.socket, this.resumed)) this.holding++;
  }

  done(err: Error | null): void {
    this.ended = err;
    if (this.holding === 0) this.finish();
  }

  private finish(): void {
    const channel = this.channel!;
    const done = this.onDone!;
    this.channel = this.client = this.onDone = null;
    this.stopped();
    channel.release();
    done(this.ended ?? null);
  }
}
