// Awaitable reads of whole packets from a socket, used only during client login (not the hot path).
import type { Duplex } from 'node:stream';
import { MalformedMessage } from '../protocol/reader.js';
import { DroppedStartup, startupPacketLength } from '../protocol/startup.js';

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

  /** The next startup-phase packet (untyped); bad lengths and early ends are dropped as PostgreSQL drops them. */
  async startupPacket(maxBytes: number): Promise<Buffer> {
    for (;;) {
      const len = startupPacketLength(this.buf, maxBytes);
      if (len > 0) return this.take(len);
      if (this.ended) {
        if (this.buf.length === 0)
          throw new DroppedStartup('connection closed before a startup packet', true);
        throw new DroppedStartup('incomplete startup packet');
      }
      await this.more();
    }
  }

  /** The next typed message (a password message during authentication). */
  async message(maxBytes: number): Promise<Buffer> {
    for (;;) {
      if (this.buf.length >= 5) {
        const len = this.buf.readInt32BE(1) + 1;
        if (len < 5 || len > maxBytes) throw new MalformedMessage(`invalid message length ${len}`);
        if (this.buf.length >= len) return this.take(len);
      }
      // The client left during authentication (psql does, to ask for a password): nothing to answer.
      if (this.ended) throw new DroppedStartup('connection closed during authentication', true);
      await this.more();
    }
  }

  private take(len: number): Buffer {
    const packet = this.buf.subarray(0, len);
    this.buf = this.buf.subarray(len);
    return packet;
  }

  private async more(): Promise<void> {
    await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = null;
  }
}
