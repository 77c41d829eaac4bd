// An unsharded database is a cluster of one shard: an empty map that puts every table on shard 0, and
// nothing of several shards (in-doubt resolver, its queries and timer) started for it.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { Database } from '../../../src/backend/database.js';
import { createLogger } from '../../../src/logger.js';

const users = 'users: [{ name: u, password: p }]\n';
// Port 1 refuses connections: anything that tried to reach the server would log a failure.
const unsharded = `${users}databases:\n  app:\n    backend: { user: u, database: app }\n    shards: [{ primary: "127.0.0.1:1" }]\n`;
const sharded = `${users}databases:
  app:
    backend: { user: u, database: app }
    shards: [{ primary: "127.0.0.1:1" }, { primary: "127.0.0.1:1" }]
    sharding: { tables: { orders: id }, reference: [countries], default_shard: 1 }
`;

function databaseOf(yaml: string) {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', format: 'json', write: (line) => lines.push(line) });
  const db = new Database('app', parseConfig(yaml, {}).databases.app!, log);
  return { db, lines };
}

describe('a database of one shard', () => {
  it('is a cluster that is not sharded, whose map puts every table on shard 0', () => {
    const { db } = databaseOf(unsharded);
    expect(db.cluster.sharded).toBe(false);
    expect(db.cluster.shardCount).toBe(1);
    expect(db.cluster.map.shardedTables()).toEqual([]);
    for (const table of ['orders', 'public.Countries', 'anything'])
      expect(db.cluster.map.kindOf(table)).toEqual({ kind: 'unsharded', shard: 0 });
    expect(db.cluster.map.allShards()).toEqual([0]);
  });

  it('starts no in-doubt resolution: no connection, no log line', async () => {
    const { db, lines } = databaseOf(unsharded);
    await db.cluster.start();
    expect(db.pools().map((p) => p.stats.created)).toEqual([0]);
    expect(lines).toEqual([]);
    db.cluster.stop();
  });

  it('a sharding section with two shards is sharded, and starting it tries to resolve', async () => {
    const { db, lines } = databaseOf(sharded);
    expect(db.cluster.sharded).toBe(true);
    expect(db.cluster.map.kindOf('orders').kind).toBe('sharded');
    expect(db.cluster.map.kindOf('countries')).toEqual({ kind: 'reference' });
    expect(db.cluster.map.kindOf('other')).toEqual({ kind: 'unsharded', shard: 1 });
    await db.cluster.start();
    db.cluster.stop();
    expect(lines.some((line) => line.includes('in-doubt resolution failed'))).toBe(true);
    await Promise.all(db.shards.map((s) => s.close()));
  });
});
