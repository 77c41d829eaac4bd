// Bench reference "bun-pipe": a bare 1:1 TCP relay on Bun's own sockets (Bun.listen / Bun.connect), no parsing,
// no pooling; the floor of the Bun transport. Usage: bun bun-pipe.js LISTEN_PORT BACKEND_PORT (127.0.0.1).
import { bunApi, type BunSocketHandlers, type BunTcpSocket } from '../../net/bun-api.js';

const [listenPort, backendPort] = process.argv.slice(2).map(Number);
const bun = bunApi();
if (!listenPort || !backendPort || !bun) {
  process.stderr.write('usage: bun bun-pipe.js LISTEN_PORT BACKEND_PORT\n');
  process.exit(2);
}

/** One side of a pair: its peer, and the bytes the kernel did not take yet (sent on drain). */
interface Side {
  peer: BunTcpSocket<Side> | null;
  pending: Buffer[];
  early: Buffer[];
}

/** Writes what the peer cannot take at once later, and pauses the reader meanwhile. */
function forward(from: BunTcpSocket<Side>, chunk: Buffer): void {
  const to = from.data.peer;
  if (!to) return void from.data.early.push(Buffer.from(chunk));
  if (to.data.pending.length > 0) return void to.data.pending.push(Buffer.from(chunk));
  const n = to.write(chunk);
  if (n >= 0 && n < chunk.length) {
    to.data.pending.push(Buffer.from(chunk.subarray(n)));
    from.pause();
  }
}

const handlers: BunSocketHandlers<Side> = {
  data: forward,
  drain(s) {
    while (s.data.pending.length > 0) {
      const head = s.data.pending[0];
      const n = s.write(head);
      if (n < head.length) {
        if (n > 0) s.data.pending[0] = head.subarray(n);
        return;
      }
      s.data.pending.shift();
    }
    s.data.peer?.resume();
  },
  end: (s) => s.end(),
  close: (s) => s.data.peer?.end(),
  error: (s) => s.terminate(),
};

bun!.listen<Side>({
  hostname: '127.0.0.1',
  port: listenPort,
  socket: {
    ...handlers,
    open(client) {
      client.data = { peer: null, pending: [], early: [] };
      client.setNoDelay(true);
      const side: Side = { peer: client, pending: [], early: [] };
      bun!.connect<Side>({ hostname: '127.0.0.1', port: backendPort, data: side, socket: handlers }).then(
        (backend) => {
          backend.setNoDelay(true);
          client.data.peer = backend;
          for (const chunk of client.data.early.splice(0)) forward(client, chunk);
        },
        () => client.terminate(),
      );
    },
  },
});
