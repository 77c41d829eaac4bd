// Bench reference "node-pipe": a bare 1:1 TCP relay in Node (no parsing, no pooling); the floor of Node's transport.
// Usage: node node-pipe.js LISTEN_PORT BACKEND_PORT (both on 127.0.0.1).
import net from 'node:net';

const [listenPort, backendPort] = process.argv.slice(2).map(Number);
if (!listenPort || !backendPort) {
  process.stderr.write('usage: node node-pipe.js LISTEN_PORT BACKEND_PORT\n');
  process.exit(2);
}

/** Forwards every chunk as it arrives; pauses the reader while the writer's buffer is full. */
function relay(from: net.Socket, to: net.Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
}

net
  .createServer({ noDelay: true }, (client) => {
    const backend = net.connect({ host: '127.0.0.1', port: backendPort, noDelay: true });
    // The plainest fast relay in Node: 'data' handlers that write (stream.pipe() measured slower here).
    relay(client, backend);
    relay(backend, client);
    const closeBoth = () => {
      client.destroy();
      backend.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    backend.on('error', closeBoth).on('close', closeBoth);
  })
  .listen(listenPort, '127.0.0.1');
