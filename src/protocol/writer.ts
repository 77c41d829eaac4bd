// Builds protocol messages the proxy itself sends; the relayed traffic never goes through here.

/** Grows a buffer as fields are appended; finish() patches the length and returns the message. */
export class MessageWriter {
  private buf: Buffer;
  private pos: number;

  constructor(
    private readonly type: number | null,
    capacity = 64,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 8));
    this.pos = type === null ? 4 : 5;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  cstring(s: string): this {
    const len = Buffer.byteLength(s);
    this.ensure(len + 1);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += len;
    this.buf[this.pos++] = 0;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  finish(): Buffer {
    if (this.type === null) {
      this.buf.writeInt32BE(this.pos, 0);
    } else {
      this.buf[0] = this.type;
      this.buf.writeInt32BE(this.pos - 1, 1);
    }
    return this.buf.subarray(0, this.pos);
  }
}
