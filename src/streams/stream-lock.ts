// The lock that makes one proxy instance the consumer of a change stream: a session advisory lock on the
// primary, held by a connection of its own, so PostgreSQL frees it the moment that instance dies.
import pg from 'pg';

export interface ServerLogin {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly connectTimeoutMs: number;
}

export const clientConfig = (server: ServerLogin): pg.ClientConfig => ({
  host: server.host,
  port: server.port,
  user: server.user,
  password: server.password,
  database: server.database,
  connectionTimeoutMillis: server.connectTimeoutMs,
  keepAlive: true,
  application_name: 'polyproxy change stream',
});

export interface HeldLock {
  /** The connection that holds the lock; usable for other statements while it is held. */
  readonly client: pg.Client;
  /** Settles when the connection (and with it the lock) is gone. */
  readonly lost: Promise<void>;
  release(): Promise<void>;
}

/** Takes the lock named `name` without waiting: null when another session holds it. */
export async function tryLock(server: ServerLogin, name: string): Promise<HeldLock | null> {
  const client = new pg.Client(clientConfig(server));
  let markLost!: () => void;
  const lost = new Promise<void>((resolve) => (markLost = resolve));
  // Without an error listener a dropped connection would crash the process; `end` follows it.
  client.on('error', () => markLost());
  client.on('end', () => markLost());
  try {
    await client.connect();
    const { rows } = await client.query<{ taken: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS taken',
      [`polyproxy change stream ${name}`],
    );
    if (rows[0]?.taken) return { client, lost, release: () => client.end().catch(() => {}) };
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  await client.end().catch(() => {});
  return null;
}
