// A socket on Bun's own API that looks to the proxy like the node:net socket it knows: the Duplex members the
// sessions, login and relays use (write with backpressure, pause/resume, end, destroy, and their events).
//
// Chunks go straight to `onChunk` on the hot path (no stream machinery); without one (during login) they are
// emitted as 'data'. Bytes the kernel did not take at once are copied and sent on Bun's `drain`.
import { EventEmitter } from 'node:events';
import { bunApi, type BunSocketHandlers, type BunTcpSocket } from './bun-api.js';

/**
 * Bun hands every read over in a fresh buffer (node:net reads into one reused buffer): a streamed result
 * becomes that much garbage, which Bun's collector let grow 30-70 MB over a million rows (memory.test.ts,
 * limit 50). After this many bytes read the collector is asked to run.
 */
const collectEveryBytes = 16 * 1024 * 1024;
let readSinceCollect = 0;

export class BunSocket extends EventEmitter {
  destroyed = false;
  remoteAddress?: string;
  remotePort?: number;
  /** Set on the hot path: every chunk goes here, valid only during the call (as with node:net's `onread`). */
  onChunk: ((chunk: Buffer) => void) | null = null;
  private raw: BunTcpSocket<BunSocket> | null = null;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  /** Write callbacks waiting for the queue to empty. */
  private flushed: (() => void)[] = [];
  private paused = false;
  /** Chunks that arrived while paused (Bun may deliver one already read), handed on at resume or read(). */
  private held: Buffer[] = [];
  private ending = false;
  private closed = false;
  /** Asked for before the connection opened: applied when it does. */
  private noDelay = false;

  /** Bytes written but not yet taken by the kernel: writers stop feeding while this is above zero. */
  get writableLength(): number {
    return this.queuedBytes;
  }

  attach(raw: BunTcpSocket<BunSocket>): void {
    this.raw = raw;
    this.remoteAddress = raw.remoteAddress;
    this.remotePort = raw.remotePort;
    if (this.destroyed) return raw.end();
    if (this.noDelay) raw.setNoDelay(true);
    if (this.paused) raw.pause();
    if (this.queuedBytes > 0 || this.ending) this.drained();
  }

  setNoDelay(on = true): this {
    this.noDelay = on;
    this.raw?.setNoDelay(on);
    return this;
  }

  write(data: Buffer | string, cb?: (err?: Error) => void): boolean {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.destroyed || this.ending) {
      if (cb) process.nextTick(cb, this.destroyed ? new Error('socket closed') : undefined);
      return false;
    }
    if (this.queuedBytes === 0 && bytes.length > 0 && this.raw) {
      const n = this.raw.write(bytes);
      // Closed under us: Bun's close handler follows, and the bytes go nowhere.
      if (n < 0) {
        if (cb) process.nextTick(cb, new Error('socket closed'));
        return false;
      }
      if (n < bytes.length) this.enqueue(bytes.subarray(n));
    } else if (bytes.length > 0) {
      this.enqueue(bytes);
    }
    if (cb) {
      if (this.queuedBytes === 0) process.nextTick(cb);
      else this.flushed.push(cb);
    }
    return this.queuedBytes === 0;
  }

  end(data?: Buffer | string | (() => void)): this {
    if (typeof data === 'function') this.once('finish', data);
    else if (data !== undefined) this.write(data);
    if (this.ending) return this;
    this.ending = true;
    if (this.queuedBytes === 0 && this.raw) this.finish();
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.queue = [];
    this.queuedBytes = 0;
    // A plain close (FIN), as node:net's destroy() does: Bun's terminate() would reset the connection.
    this.raw?.end();
    // As node:net, 'close' comes on a later tick, not inside the caller's destroy().
    process.nextTick(() => this.emitClose());
    return this;
  }

  pause(): this {
    this.paused = true;
    this.raw?.pause();
    return this;
  }

  resume(): this {
    this.paused = false;
    this.raw?.resume();
    // As node:net, held bytes flow on the next tick, after the caller set up what reads them.
    if (this.held.length > 0) process.nextTick(() => this.release());
    return this;
  }

  /** A chunk that arrived while paused, or null. */
  read(): Buffer | null {
    return this.held.shift() ?? null;
  }

  /** Bun's handlers for sockets whose `data` is a BunSocket, shared by every socket (Bun's recommended use). */
  static readonly handlers: BunSocketHandlers<BunSocket> = {
    data: (s, chunk) => s.data.received(chunk),
    drain: (s) => s.data.drained(),
    end: (s) => s.data.peerEnded(),
    close: (s) => s.data.emitClose(),
    error: (s, err) => s.data.failed(err),
  };

  private received(chunk: Buffer): void {
    readSinceCollect += chunk.length;
    if (readSinceCollect >= collectEveryBytes) {
      readSinceCollect = 0;
      bunApi()?.gc(false);
    }
    if (this.paused || this.held.length > 0) this.held.push(Buffer.from(chunk));
    else if (this.onChunk) this.onChunk(chunk);
    else this.emit('data', chunk);
  }

  private release(): void {
    while (!this.paused && this.held.length > 0) {
      const chunk = this.held.shift()!;
      if (this.onChunk) this.onChunk(chunk);
      else this.emit('data', chunk);
    }
  }

  private enqueue(bytes: Buffer): void {
    // The bytes may lie in a reused read buffer: the queue keeps its own copy.
    this.queue.push(Buffer.from(bytes));
    this.queuedBytes += bytes.length;
  }

  private drained(): void {
    while (this.queue.length > 0 && this.raw) {
      const head = this.queue[0];
      const n = this.raw.write(head);
      if (n < 0) return;
      this.queuedBytes -= Math.max(0, n);
      if (n < head.length) {
        this.queue[0] = head.subarray(n);
        return;
      }
      this.queue.shift();
    }
    for (const cb of this.flushed.splice(0)) cb();
    this.emit('drain');
    if (this.ending) this.finish();
  }

  private finish(): void {
    this.raw?.end();
    this.emit('finish');
  }

  /** The peer sent FIN: as node:net without allowHalfOpen, this side ends too. */
  private peerEnded(): void {
    this.emit('end');
    this.end();
  }

  private failed(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.destroy();
  }

  private emitClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.destroyed = true;
    for (const cb of this.flushed.splice(0)) cb();
    this.emit('close', false);
  }
}
