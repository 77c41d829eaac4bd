// Ends a connection after a last message and never leaves its socket open behind it.
import type { Duplex } from 'node:stream';

/** How long a refused client may take to close after its last message before the proxy closes it anyway. */
const lingerMs = 1000;

/**
 * Sends `bytes` and closes. Reading goes on and drops what arrives, so the client's close is seen (a paused
 * socket never sees it) and no unread bytes make the kernel answer with a reset that could overtake the
 * message. The socket is destroyed when the client closes, or after `lingerMs` if it neither reads nor closes.
 */
export function endWith(socket: Duplex, bytes: Buffer): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  socket.once('close', () => clearTimeout(timer));
  socket.removeAllListeners('data');
  socket.resume();
  socket.end(bytes);
}
