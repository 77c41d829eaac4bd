// Splits a byte stream of typed messages into whole messages without copying complete ones.
import { Frontend } from './codes.js';

export class FramingError extends Error {}

/** Called once per complete message: `start` is the type byte, `end` is one past the last byte. */
export type MessageVisitor = (type: number, buf: Buffer, start: number, end: number) => void;

/**
 * The message types PostgreSQL accepts from a client after startup (postgres.c, SocketBackend); any other
 * ends the connection with 08P01. A password message ('p') belongs to the login and is refused too.
 */
const clientTypes = new Uint8Array(256);
for (const t of [
  Frontend.Query,
  Frontend.Parse,
  Frontend.Bind,
  Frontend.Execute,
  Frontend.Describe,
  Frontend.Close,
  Frontend.Flush,
  Frontend.Sync,
  Frontend.Terminate,
  Frontend.FunctionCall,
  Frontend.CopyData,
  Frontend.CopyDone,
  Frontend.CopyFail,
])
  clientTypes[t] = 1;

export class MessageFramer {
  /** A message split across chunks: sized to the whole message once its header is known. */
  private partial: Buffer | null = null;
  private filled = 0;

  /** `accepted`: the type bytes allowed (1 at their index), or null for any; see MessageFramer.client. */
  constructor(
    private readonly maxMessageBytes: number,
    private readonly accepted: Uint8Array | null = null,
  ) {}

  /** A framer of a client's messages: a type PostgreSQL would not accept is a FramingError. */
  static client(maxMessageBytes: number): MessageFramer {
    return new MessageFramer(maxMessageBytes, clientTypes);
  }

  /** No message is half read: the next chunk starts with a type byte. */
  get atBoundary(): boolean {
    return this.partial === null;
  }

  /**
   * Visits the chunk's whole messages in order. With accepted types, the whole chunk is checked before the
   * first visit: a bad message must not follow good ones that already went on (say, to a pooled server
   * connection, which would be left mid-round by a client that is about to be closed).
   */
  feed(chunk: Buffer, visit: MessageVisitor): void {
    let buf = chunk;
    let completed: Buffer | null = null;
    if (this.partial) {
      if (this.filled < 5) {
        buf = Buffer.concat([this.partial.subarray(0, this.filled), chunk]);
        this.partial = null;
      } else {
        const n = Math.min(this.partial.length - this.filled, chunk.length);
        chunk.copy(this.partial, this.filled, 0, n);
        this.filled += n;
        if (this.filled < this.partial.length) return;
        completed = this.partial;
        this.partial = null;
        buf = chunk.subarray(n);
      }
    }
    if (this.accepted) this.check(buf);
    if (completed) visit(completed[0], completed, 0, completed.length);
    let pos = 0;
    const len = buf.length;
    while (len - pos >= 5) {
      const end = pos + 1 + this.checkedSize(buf.readInt32BE(pos + 1));
      if (end > len) break;
      visit(buf[pos], buf, pos, end);
      pos = end;
    }
    if (pos === len) return;
    const rest = len - pos;
    this.partial = Buffer.allocUnsafe(rest >= 5 ? 1 + buf.readInt32BE(pos + 1) : 5);
    buf.copy(this.partial, 0, pos);
    this.filled = rest;
  }

  /** Throws for the first message header in buf (whole or not) with a type or a length that is not allowed. */
  private check(buf: Buffer): void {
    const accepted = this.accepted!;
    let pos = 0;
    while (pos < buf.length) {
      if (accepted[buf[pos]] === 0) throw new FramingError(`invalid frontend message type ${buf[pos]}`);
      if (buf.length - pos < 5) return;
      pos += 1 + this.checkedSize(buf.readInt32BE(pos + 1));
    }
  }

  private checkedSize(size: number): number {
    if (size < 4) throw new FramingError(`invalid message length ${size}`);
    if (size > this.maxMessageBytes) {
      throw new FramingError(`message of ${size} bytes exceeds the limit of ${this.maxMessageBytes} bytes`);
    }
    return size;
  }
}
