// The Duplex face of a Bun socket, over a stand-in for Bun's socket that takes at most `room` bytes per write
// (what a full kernel buffer does): queued rest, drain, write callbacks, pause/resume, end and close.
import { describe, expect, it } from 'vitest';
import type { BunTcpSocket } from '../../../src/net/bun-api.js';
import { BunSocket } from '../../../src/net/bun-socket.js';

class FakeRaw implements BunTcpSocket<BunSocket> {
  data!: BunSocket;
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 5432;
  sent: Buffer[] = [];
  room = Infinity;
  ended = false;
  paused = false;
  noDelay = false;
  write(data: Uint8Array): number {
    if (this.ended) return -1;
    const n = Math.min(this.room, data.length);
    this.sent.push(Buffer.from(data.subarray(0, n)));
    this.room -= n;
    return n;
  }
  end(): void {
    this.ended = true;
  }
  terminate(): void {
    this.ended = true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  setNoDelay(on: boolean): boolean {
    this.noDelay = on;
    return true;
  }
  /** Bun's side: the kernel has room again. */
  drain(room: number): void {
    this.room = room;
    BunSocket.handlers.drain(this);
  }
}

function attached(): { socket: BunSocket; raw: FakeRaw } {
  const socket = new BunSocket();
  const raw = new FakeRaw();
  raw.data = socket;
  socket.attach(raw);
  return { socket, raw };
}

const tick = () => new Promise((r) => process.nextTick(r));

describe('BunSocket', () => {
  it('keeps its own copy of what the kernel did not take and sends it on drain, in order', async () => {
    const { socket, raw } = attached();
    raw.room = 3;
    const reused = Buffer.from('abcdef');
    let flushed = false;
    expect(socket.write(reused, () => (flushed = true))).toBe(false);
    expect(socket.writableLength).toBe(3);
    reused.fill(0x78); // the caller's reused buffer is overwritten by its next read
    expect(socket.write(Buffer.from('gh'))).toBe(false);
    await tick();
    expect(flushed).toBe(false);
    raw.drain(2);
    expect(socket.writableLength).toBe(3);
    raw.drain(100);
    expect(socket.writableLength).toBe(0);
    expect(flushed).toBe(true);
    expect(Buffer.concat(raw.sent).toString()).toBe('abcdefgh');
  });

  it('holds chunks that arrive while paused and hands them on after resume; read() takes them', async () => {
    const { socket, raw } = attached();
    const got: string[] = [];
    socket.onChunk = (c) => got.push(c.toString());
    socket.pause();
    expect(raw.paused).toBe(true);
    BunSocket.handlers.data(raw, Buffer.from('one'));
    BunSocket.handlers.data(raw, Buffer.from('two'));
    expect(got).toEqual([]);
    expect(socket.read()?.toString()).toBe('one');
    socket.resume();
    expect(got).toEqual([]);
    await tick();
    expect(got).toEqual(['two']);
    BunSocket.handlers.data(raw, Buffer.from('three'));
    expect(got).toEqual(['two', 'three']);
  });

  it("emits chunks as 'data' without a chunk handler, and sends writes made before the connection opened", () => {
    const socket = new BunSocket();
    socket.setNoDelay(true);
    socket.write(Buffer.from('early'));
    const raw = new FakeRaw();
    raw.data = socket;
    socket.attach(raw);
    expect(raw.noDelay).toBe(true);
    expect(Buffer.concat(raw.sent).toString()).toBe('early');
    const got: string[] = [];
    socket.on('data', (c: Buffer) => got.push(c.toString()));
    BunSocket.handlers.data(raw, Buffer.from('x'));
    expect(got).toEqual(['x']);
  });

  it('ends only after the queue is sent, and closes once', async () => {
    const { socket, raw } = attached();
    raw.room = 2;
    socket.end(Buffer.from('bye!'));
    expect(raw.ended).toBe(false);
    raw.drain(10);
    expect(raw.ended).toBe(true);
    let closes = 0;
    socket.on('close', () => closes++);
    BunSocket.handlers.close(raw);
    socket.destroy();
    BunSocket.handlers.close(raw);
    await tick();
    expect(closes).toBe(1);
    expect(socket.destroyed).toBe(true);
  });

  it("ends its side when the peer ends, and 'close' follows destroy() on a later tick", async () => {
    const { socket, raw } = attached();
    const events: string[] = [];
    socket.on('end', () => events.push('end'));
    socket.on('close', () => events.push('close'));
    BunSocket.handlers.end(raw);
    expect(events).toEqual(['end']);
    expect(raw.ended).toBe(true);
    socket.destroy();
    expect(events).toEqual(['end']);
    await tick();
    expect(events).toEqual(['end', 'close']);
  });
});
