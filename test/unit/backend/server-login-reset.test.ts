// A server that resets the connection in the middle of the proxy's login: a refused login, not a crash.
//
// The peer here is a bare TCP listener that misbehaves on purpose (no PostgreSQL can be made to reset at
// an exact protocol step); what is tested is the proxy's side of the socket.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError, ServerConnection, type ServerLogin } from '../../../src/backend/server-connection.js';
import { MessageWriter } from '../../../src/protocol/writer.js';

const login: ServerLogin = {
  user: 'app',
  password: 'secret',
  database: 'app',
  tls: { mode: 'disable' },
  connectTimeoutMs: 5000,
};

const servers: net.Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A listener that answers the startup message with `reply` (if any), then resets the connection. */
async function resettingServer(reply?: Buffer): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      if (reply) socket.write(reply);
      // An RST rather than a FIN: the client's read fails with ECONNRESET.
      setTimeout(() => socket.resetAndDestroy(), 20);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

describe('ServerConnection.connect against a server that resets mid-login', () => {
  it('rejects with a BackendError after the startup message, and the process goes on', async () => {
    const port = await resettingServer();
    await expect(ServerConnection.connect({ host: '127.0.0.1', port }, login)).rejects.toBeInstanceOf(
      BackendError,
    );
  });

  it('rejects with a BackendError in the middle of SCRAM', async () => {
    // AuthenticationSASL offering SCRAM-SHA-256: the proxy sends its first message, then the reset comes.
    const sasl = new MessageWriter(0x52).int32(10).cstring('SCRAM-SHA-256').cstring('').finish();
    const port = await resettingServer(sasl);
    const refused = ServerConnection.connect({ host: '127.0.0.1', port }, login);
    await expect(refused).rejects.toBeInstanceOf(BackendError);
    await expect(refused).rejects.toThrow(/during login/);
  });
});
