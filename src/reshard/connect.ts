// One short-lived connection to a server for a piece of reshard work, closed whatever happens.
import pg from 'pg';
import { clientConfig, type ServerLogin } from '../streams/stream-lock.js';

export async function withClient<T>(
  server: ServerLogin,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ ...clientConfig(server), application_name: 'polyproxy reshard' });
  // A connection dropped between statements would otherwise crash the process; the pending query fails.
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}
