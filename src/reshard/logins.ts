// The server logins of a database's shards, as a reshard connects to them (the primary of each shard).
import { parseHostPort } from '../config/host-port.js';
import type { DatabaseConfig } from '../config/schema.js';
import type { ServerLogin } from '../streams/stream-lock.js';

export function loginOf(db: DatabaseConfig, address: string, database: string | undefined): ServerLogin {
  const { host, port } = parseHostPort(address);
  const { user, password, connect_timeout } = db.backend;
  return {
    host,
    port,
    user,
    password,
    database: database ?? db.backend.database,
    connectTimeoutMs: connect_timeout,
  };
}

/** The primaries of a database's shards, in shard order. */
export const primariesOf = (db: DatabaseConfig): ServerLogin[] =>
  db.shards.map((s) => loginOf(db, s.primary, s.database));
