// Splits a byte stream of typed messages into whole messages without copying complete ones.
export class FramingError extends Error {}

/** Called once per complete message: `start` is the type byte, `end` is one past the last byte. */
export type MessageVisitor = (type: number, buf: Buffer, start: number, end: number) => void;

export class MessageFramer {
  /** A message split across chunks: sized to the whole message once its header is known. */
  private partial: Buffer | null = null;
  private filled = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** No message is half read: the next chunk starts with a type byte. */
  get atBoundary(): boolean {
    return this.partial === null;
  }

  feed(chunk: Buffer, visit: MessageVisitor): void {
    let buf = chunk;
    if (this.partial) {
      if (this.filled < 5) {
        buf = Buffer.concat([this.partial.subarray(0, this.filled), chunk]);
        this.partial = null;
      } else {
        const n = Math.min(this.partial.length - this.filled, chunk.length);
        chunk.copy(this.partial, this.filled, 0, n);
        this.filled += n;
        if (this.filled < this.partial.length) return;
        const whole = this.partial;
        this.partial = null;
        visit(whole[0], whole, 0, whole.length);
        buf = chunk.subarray(n);
      }
    }
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

  private checkedSize(size: number): number {
    if (size < 4) throw new FramingError(`invalid message length ${size}`);
    if (size > this.maxMessageBytes) {
      throw new FramingError(`message of ${size} bytes exceeds the limit of ${this.maxMessageBytes} bytes`);
    }
    return size;
  }
}
