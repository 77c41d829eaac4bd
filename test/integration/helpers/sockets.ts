// Counts of this process's open descriptors and of the proxy's sockets, for tests that look for leaks.
import { readFileSync, readdirSync } from 'node:fs';

export function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * The proxy's open sockets on its listening port. Proxy and test share this process, so a connection on that
 * local port with an inode is one the proxy still holds open (a closed one keeps no inode).
 */
export function proxySideSockets(listenPort: number): number {
  const hexPort = listenPort.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const file of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const localPort = cols[1].split(':')[1];
      const [state, inode] = [cols[3], cols[9]];
      if (localPort === hexPort && state !== '0A' && inode !== '0') n++;
    }
  }
  return n;
}

/** Waits until `count()` is at most `target`, for up to `ms`; returns the last count. */
export async function settlesTo(count: () => number, target: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let n = count();
  while (n > target && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    n = count();
  }
  return n;
}
