// Awaitable reads of whole packets from a socket, used only during client login (not the hot path).
import type { Duplex } from 'node:stream';
import { MalformedMessage } from '../protocol/reader.js';

export class SocketReader {
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private ended = false;
  private readonly onData = (chunk: Buffer) => {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.wake?.();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.wake?.();
  };

  constructor(private readonly socket: Duplex) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
  }

  /** Stops reading and returns bytes received beyond the last packet. */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return rest;
  }

  pendingBytes(): number {
    return this.buf.length;
  }

  /** The next packet whose length field starts at `lengthOffset` (0 untyped, 1 typed). */
  async packet(lengthOffset: 0 | 1, maxBytes: number): Promise<Buffer> {
    for (;;) {
      if (this.buf.length >= lengthOffset + 4) {
        const len = this.buf.readInt32BE(lengthOffset) + lengthOffset;
        if (len < lengthOffset + 4 || len > maxBytes) {
          throw new MalformedMessage(`invalid ${lengthOffset ? 'message' : 'startup packet'} length ${len}`);
        }
        if (this.buf.length >= len) {
          const packet = this.buf.subarray(0, len);
          this.buf = this.buf.subarray(len);
          return packet;
        }
      }
      if (this.ended) throw new MalformedMessage('connection closed during login');
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}
