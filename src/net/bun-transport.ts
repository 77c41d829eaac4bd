// The transport on Bun's own sockets (`Bun.listen` / `Bun.connect`): no node:net stream machinery between
// the kernel and the proxy's handlers.
import cluster from 'node:cluster';
import type net from 'node:net';
import { bunApi, type BunApi, type BunTcpListener } from './bun-api.js';
import { BunSocket } from './bun-socket.js';
import { SocketInput } from './socket-input.js';
import type { ClientListener, Transport } from './transport.js';

/** Sockets of this transport pass through node:net-typed code; they implement the members it uses. */
const asNetSocket = (s: BunSocket) => s as unknown as net.Socket;

export function bunTransport(): Transport {
  const bun = bunApi();
  if (!bun) throw new Error('the Bun transport needs the Bun runtime');
  return {
    kind: 'bun',
    listener: (onConnection) => bunListener(bun, onConnection),
    adopt(accepted) {
      const socket = accepted as unknown as BunSocket;
      const input = SocketInput.direct(accepted, (handler) => (socket.onChunk = handler));
      socket.resume();
      return input;
    },
    connect(host, port) {
      const socket = new BunSocket();
      bun.connect<BunSocket>({ hostname: host, port, data: socket, socket: BunSocket.handlers }).then(
        (raw) => {
          socket.attach(raw);
          socket.emit('connect');
        },
        (err: Error) => socket.emit('error', err),
      );
      return SocketInput.direct(asNetSocket(socket), (handler) => (socket.onChunk = handler));
    },
  };
}

function bunListener(bun: BunApi, onConnection: (socket: net.Socket) => void): ClientListener {
  let server: BunTcpListener | null = null;
  const handlers = {
    ...BunSocket.handlers,
    open(raw: Parameters<NonNullable<typeof BunSocket.handlers.open>>[0]) {
      const socket = new BunSocket();
      raw.data = socket;
      socket.attach(raw);
      onConnection(asNetSocket(socket));
    },
  };
  return {
    async listen(host, port) {
      // Each worker process listens itself; the kernel spreads connections over them (SO_REUSEPORT).
      server = bun.listen<BunSocket>({ hostname: host, port, reusePort: cluster.isWorker, socket: handlers });
      return { host: server.hostname, port: server.port };
    },
    get listening() {
      return server !== null;
    },
    close() {
      server?.stop();
      server = null;
    },
  };
}
