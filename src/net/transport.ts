// The transport: how the proxy accepts clients and connects to servers. One interface, a node:net
// implementation and one on Bun's own sockets, chosen once per process by the runtime it runs on.
import type net from 'node:net';
import type { SocketInput } from './socket-input.js';

export type TransportKind = 'node' | 'bun';

/** Forces a transport: `node` runs node:net under Bun too; unset, Bun's own sockets are used under Bun. */
export const transportVariable = 'POLYPROXY_TRANSPORT';

export interface ClientListener {
  listen(host: string, port: number): Promise<{ host: string; port: number }>;
  readonly listening: boolean;
  /** Stops accepting; accepted connections stay open (their owners close them). */
  close(): void;
}

/**
 * Accepted sockets look like node:net's (the login reads them through 'data' events, and TLS wraps them after
 * an SSLRequest); once logged in, `adopt` moves a plain one to the hot path, where each read goes straight to
 * the SocketInput's handler, out of a buffer the transport reuses where it can. Writes, pause/resume, end and
 * destroy are the Duplex members every side already uses.
 */
export interface Transport {
  readonly kind: TransportKind;
  listener(onConnection: (socket: net.Socket) => void): ClientListener;
  adopt(accepted: net.Socket): SocketInput;
  /** A plain TCP connection to a server; it emits 'connect' once open and 'error' if that fails. */
  connect(host: string, port: number): SocketInput;
}

/** Which transport this process uses; `bun` asked for outside Bun is a start-up error. */
export function transportKind(env: NodeJS.ProcessEnv = process.env): TransportKind {
  const forced = env[transportVariable];
  const onBun = typeof process.versions.bun === 'string';
  if (forced === 'node') return 'node';
  if (forced === 'bun' && !onBun) throw new Error(`${transportVariable}=bun needs the Bun runtime`);
  if (forced !== undefined && forced !== 'bun' && forced !== '')
    throw new Error(`${transportVariable} must be node or bun, not "${forced}"`);
  return onBun ? 'bun' : 'node';
}
