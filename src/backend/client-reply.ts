// The fast path's reply stream: a shard's reply bytes to the client, with flow control, then the connection back.
import type { Duplex } from 'node:stream';
import { writeOrHold } from '../net/socket-input.js';
import type { ReplySink, ShardChannel } from './shard-channel.js';

type RoundDone = (err: Error | null) => void;

/**
 * Streams the replies of passthrough rounds on one shard connection to the client with flow control, then
 * releases the connection and reports: a chunk lies in the connection's read buffer, so that socket waits
 * until the client took it. Several rounds may be in flight on the connection (pipelined); each is reported
 * in order, and the connection goes back after the last.
 */
export class ClientReply implements ReplySink {
  private channel: ShardChannel | null = null;
  private client: Duplex | null = null;
  /** The reports of the rounds in flight, oldest first. */
  private readonly rounds: RoundDone[] = [];
  /** How the oldest rounds ended, while the client has not yet taken all of their reply. */
  private readonly ended: (Error | null)[] = [];
  /** Writes the client has not yet drained; a round is reported only after them. */
  private holding = 0;
  private readonly resumed = () => {
    if (--this.holding === 0) this.finish();
  };

  constructor(private readonly stopped: () => void) {}

  /** Some of the reply waits for the client to read it. */
  get held(): boolean {
    return this.holding > 0;
  }

  /** The connection the replies come from, while rounds are in flight there. */
  get current(): ShardChannel | null {
    return this.channel;
  }

  start(channel: ShardChannel, client: Duplex, done: RoundDone): void {
    this.channel = channel;
    this.client = client;
    // Both lists are empty after the last relay (finish() emptied them): setting a length costs a call.
    if (this.rounds.length > 0) this.rounds.length = 0;
    this.rounds.push(done);
    if (this.ended.length > 0) this.ended.length = 0;
    this.holding = 0;
  }

  /** Another round sent on the same connection: its reply follows those before it. */
  append(done: RoundDone): void {
    this.rounds.push(done);
  }

  forward(chunk: Buffer): void {
    if (writeOrHold(this.client!, chunk, this.channel!.conn.socket, this.resumed)) this.holding++;
  }

  done(err: Error | null): void {
    this.ended.push(err);
    if (this.holding === 0) this.finish();
  }

  private finish(): void {
    while (this.ended.length > 0) {
      const err = this.ended.shift()!;
      const done = this.rounds.shift()!;
      if (this.rounds.length === 0) {
        const channel = this.channel!;
        this.channel = this.client = null;
        this.stopped();
        channel.release();
      }
      done(err);
    }
  }
}
