// The transport on node:net: reads into a reused buffer through `onread` (see socket-input.ts).
import net from 'node:net';
import { SocketInput } from './socket-input.js';
import type { ClientListener, Transport } from './transport.js';

export const nodeTransport: Transport = {
  kind: 'node',
  listener(onConnection) {
    const server = net.createServer(onConnection);
    return nodeListener(server);
  },
  adopt: (accepted) => SocketInput.adopt(accepted),
  connect: (host, port) => SocketInput.connect(host, port),
};

function nodeListener(server: net.Server): ClientListener {
  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address() as net.AddressInfo;
          resolve({ host: addr.address, port: addr.port });
        });
      }),
    get listening() {
      return server.listening;
    },
    close: () => void server.close(),
  };
}
