// Free TCP ports on 127.0.0.1, so sandbox servers never depend on (or collide with) default ports.
import { createServer } from 'node:net';

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const address = server.address();
      const chosen = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve(chosen));
    });
  });
}

/** A port the kernel just handed out; the caller binds it right away to keep the race window small. */
export function freePort(): Promise<number> {
  return listenOnce(0);
}

/** True when nothing listens on 127.0.0.1:port, e.g. to offer a familiar port when it is available. */
export async function isPortFree(port: number): Promise<boolean> {
  try {
    await listenOnce(port);
    return true;
  } catch {
    return false;
  }
}
