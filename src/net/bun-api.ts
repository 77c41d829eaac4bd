// The part of Bun's own socket API (`Bun.listen`, `Bun.connect`) the Bun transport uses, typed here because
// the project compiles against Node's types only.

/** One TCP socket of Bun's; `data` is ours (the wrapper that stands for it). */
export interface BunTcpSocket<T> {
  data: T;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Bytes the kernel took (the rest is the caller's to send on `drain`), or -1 once closed. */
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(on: boolean): boolean;
}

export interface BunSocketHandlers<T> {
  open?(socket: BunTcpSocket<T>): void;
  data(socket: BunTcpSocket<T>, chunk: Buffer): void;
  drain(socket: BunTcpSocket<T>): void;
  /** The peer closed its side. */
  end(socket: BunTcpSocket<T>): void;
  close(socket: BunTcpSocket<T>, error?: Error): void;
  error(socket: BunTcpSocket<T>, error: Error): void;
  connectError?(socket: BunTcpSocket<T>, error: Error): void;
}

export interface BunTcpListener {
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting; open connections stay (their owners close them). */
  stop(closeActiveConnections?: boolean): void;
}

export interface BunApi {
  listen<T>(options: {
    hostname: string;
    port: number;
    /** Every worker process listens on the same port and the kernel spreads new connections over them. */
    reusePort?: boolean;
    socket: BunSocketHandlers<T>;
  }): BunTcpListener;
  connect<T>(options: {
    hostname: string;
    port: number;
    data?: T;
    socket: BunSocketHandlers<T>;
  }): Promise<BunTcpSocket<T>>;
  /** Runs the collector: at once and in full when `sync`, else it is asked to run soon. */
  gc(sync: boolean): void;
}

/** Bun's global, when this process runs on Bun. */
export const bunApi = (): BunApi | undefined => (globalThis as { Bun?: BunApi }).Bun;
