// Reads a socket into one reused buffer: the hot path allocates nothing per read.
//
// A chunk handed to the handler is valid only during the call. Whoever keeps bytes longer copies them,
// and whoever hands them to another socket's write must not let the source read again until that write
// has left the process (see `writeOrHold`).
import net from 'node:net';
import type { Duplex } from 'node:stream';

export type ChunkHandler = (chunk: Buffer) => void;

/** Server connections stream results: large reads mean fewer calls per megabyte. */
const serverReadBufferBytes = 65536;
/**
 * Clients mostly send short statements, and a pooler is there to hold many clients: each keeps this buffer
 * for its whole life (1,000 idle clients: 16 MB rather than 64 MB). Longer messages span reads as usual.
 */
const clientReadBufferBytes = 16384;
const empty = Buffer.alloc(0);

export class SocketInput {
  handler: ChunkHandler = () => {};

  private constructor(readonly socket: Duplex) {}

  /** A TCP connection whose reads land in a reused buffer. */
  static connect(host: string, port: number): SocketInput {
    const buffer = Buffer.allocUnsafe(serverReadBufferBytes);
    let input: SocketInput | null = null;
    const onread = (n: number) => {
      input!.handler(buffer.subarray(0, n));
      return true;
    };
    input = new SocketInput(net.connect({ host, port, onread: { buffer, callback: onread } }));
    return input;
  }

  /**
   * Takes over an accepted connection (created with pauseOnConnect) so it also reads into a reused
   * buffer. Node offers `onread` only on sockets it creates from a handle, hence the re-wrap.
   */
  static adopt(accepted: net.Socket): SocketInput {
    // Bun's node:net reads nothing on a socket re-made from another's handle: there the accepted socket stays.
    if (process.versions.bun) return SocketInput.stream(accepted);
    const buffer = Buffer.allocUnsafe(clientReadBufferBytes);
    let input: SocketInput | null = null;
    const onread = (n: number) => {
      input!.handler(buffer.subarray(0, n));
      return true;
    };
    const handle = (accepted as unknown as { _handle: unknown })._handle;
    const options = { handle, readable: true, writable: true, onread: { buffer, callback: onread } };
    const socket = new net.Socket(options as net.SocketConstructorOpts);
    socket.setNoDelay(true);
    input = new SocketInput(socket);
    return input;
  }

  /** A socket that hands its chunks to a handler itself (`route` installs the one that reaches this input). */
  static direct(socket: Duplex, route: (handler: ChunkHandler) => void): SocketInput {
    const input = new SocketInput(socket);
    route((chunk) => input.handler(chunk));
    return input;
  }

  /** Any other stream (TLS): chunks arrive as fresh buffers through 'data'. */
  static stream(socket: Duplex): SocketInput {
    const input = new SocketInput(socket);
    socket.on('data', (chunk: Buffer) => input.handler(chunk));
    socket.resume();
    return input;
  }
}

/**
 * Writes bytes that may live in `source`'s reused read buffer. When the kernel did not take them all at
 * once, the rest still points into that buffer: stop reading `source` until the write has drained.
 */
export function writeOrHold(target: Duplex, data: Buffer, source: Duplex, onResume?: () => void): boolean {
  target.write(data);
  if (target.writableLength === 0) return false;
  source.pause();
  const release = () => {
    if (target.writableLength > 0 && !target.destroyed) {
      target.write(empty, release);
      return;
    }
    source.resume();
    onResume?.();
  };
  target.write(empty, release);
  return true;
}

/**
 * Bytes kept long, copied out of `buf` (which may be the socket's reused read buffer)
 * into memory of their own, so they hold no shared pool slab or larger chunk alive.
 */
export function ownedCopy(buf: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafeSlow(end - start);
  buf.copy(out, 0, start, end);
  return out;
}

/** Whether `buf[start, end)` holds exactly the bytes of `other`. */
export function sameBytes(buf: Buffer, start: number, end: number, other: Buffer): boolean {
  return other.length === end - start && buf.compare(other, 0, other.length, start, end) === 0;
}
