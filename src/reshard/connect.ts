// Connections to a server for a piece of reshard work: one short-lived connection closed whatever happens, or
// connections opened before a cutover's pause and kept for its held steps (no connection set-up while held).
import pg from 'pg';
import { clientConfig, type ServerLogin } from '../streams/stream-lock.js';

/** Runs work over a connection to `server`. */
export type Runner = <T>(server: ServerLogin, work: (client: pg.Client) => Promise<T>) => Promise<T>;

function newClient(server: ServerLogin): pg.Client {
  const client = new pg.Client({ ...clientConfig(server), application_name: 'polyproxy reshard' });
  // A connection dropped between statements would otherwise crash the process; the pending query fails.
  client.on('error', () => {});
  return client;
}

export const withClient: Runner = async (server, work) => {
  const client = newClient(server);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
};

const keyOf = (s: ServerLogin) => `${s.host}:${s.port}/${s.database}`;

/** One connection per server, opened on first use (or by open()) and kept until close(); statements queue on it. */
export class HeldClients {
  private readonly clients = new Map<string, Promise<pg.Client>>();

  private client(server: ServerLogin): Promise<pg.Client> {
    let client = this.clients.get(keyOf(server));
    if (!client) {
      const c = newClient(server);
      client = c.connect().then(() => c);
      // A failed connect is not kept: the next use tries again.
      client.catch(() => this.clients.delete(keyOf(server)));
      this.clients.set(keyOf(server), client);
    }
    return client;
  }

  /** Opens the connections ahead of their use. */
  async open(servers: readonly ServerLogin[]): Promise<void> {
    await Promise.all(servers.map((s) => this.client(s)));
  }

  readonly run: Runner = async (server, work) => work(await this.client(server));

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.then((client) => client.end()).catch(() => {})));
  }
}
