// The pools of every database with their shard and server role, as several SHOW commands list them.
import type { Database } from '../../backend/database.js';
import type { Pool } from '../../backend/pool.js';
import type { ConsoleSource } from './console-source.js';

export interface PoolView {
  database: string;
  db: Database;
  /** The shard's index in config order (0 for an unsharded database). */
  shard: number;
  pool: Pool;
  /** host:port as written in the config (with /database when the shard names its own). */
  server: string;
  role: string;
}

export function poolViews(source: ConsoleSource): PoolView[] {
  const views: PoolView[] = [];
  for (const [name, db] of source.databases()) {
    for (const shard of db.shards) {
      const roles = new Map(shard.describe().map((h) => [h.address, h.role]));
      for (const host of shard.hosts)
        views.push({
          database: name,
          db,
          shard: shard.index,
          pool: host.pool,
          server: host.label,
          role: roles.get(host.address) ?? '',
        });
    }
  }
  return views;
}

/** Databases a PAUSE or RESUME names: the one given, or all; an unknown name is an error for the caller. */
export function targetDatabases(source: ConsoleSource, name: string | undefined): Database[] | null {
  const all = source.databases();
  if (name === undefined) return [...all.values()];
  const db = all.get(name);
  return db ? [db] : null;
}

/** Server connections in use (not idle and not still logging in). */
export function activeCount(pool: Pool): number {
  return pool.total - pool.idleCount - pool.connectingCount;
}
