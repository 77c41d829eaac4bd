// Helpers for sharding tests: three shards started by the test, a proxy config over them, direct clients.
import type pg from 'pg';
import { stringify } from 'yaml';
import { Database } from '../../src/backend/database.js';
import type { DatabaseConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/logger.js';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import type { Cluster } from '../../src/sandbox/postgres.js';

export interface ShardedYamlOptions {
  cluster: Cluster;
  sharding: Record<string, unknown>;
  poolSize?: number;
  /** pool.acquire_timeout (default 10s). */
  acquireTimeout?: string;
  /** Lists each shard's streaming replicas too (reads outside blocks may go there). */
  replicas?: boolean;
  /** The database name clients use (default `app`). */
  name?: string;
  /** More pool settings, e.g. `{ idle_transaction_timeout: '1s' }`. */
  pool?: Record<string, unknown>;
}

/** The `databases:` entry `app` over every shard primary of the cluster. */
export function shardedDatabasesYaml(o: ShardedYamlOptions): string {
  const db = {
    backend: { user: 'postgres', password: o.cluster.password, database: 'app', connect_timeout: '5s' },
    pool: {
      mode: 'transaction',
      size: o.poolSize ?? 6,
      acquire_timeout: o.acquireTimeout ?? '10s',
      ...o.pool,
    },
    shards: o.cluster.shards.map((s) => ({
      primary: `${s.primary.host}:${s.primary.port}`,
      ...(o.replicas && { replicas: s.replicas.map((r) => `${r.host}:${r.port}`) }),
    })),
    sharding: o.sharding,
  };
  return stringify({ [o.name ?? 'app']: db })
    .split('\n')
    .map((line) => (line ? `  ${line}` : line))
    .join('\n');
}

/** Creates database `app` on every shard. */
export async function createAppDatabase(cluster: Cluster): Promise<void> {
  await Promise.all(cluster.shards.map((s) => s.primary.psql('CREATE DATABASE app')));
}

export function shardClient(cluster: Cluster, i: number): pg.ClientConfig {
  const s = cluster.shards[i].primary;
  return { host: s.host, port: s.port, user: 'postgres', password: cluster.password, database: 'app' };
}

/** The first key from `offset` that hash sharding over three shards places on `shard`. */
export function keyOnShard(shard: number, offset: number): number {
  for (let k = offset; ; k++) if (hashShard('int', BigInt(k), 3) === shard) return k;
}

/** One transaction inserting a row into `accounts` on each of three shards; the COMMIT's error, or null. */
export async function writeOnThreeShards(client: pg.Client, base: number): Promise<unknown> {
  await client.query('BEGIN');
  for (let s = 0; s < 3; s++)
    await client.query('INSERT INTO accounts (id, v) VALUES ($1, $2)', [keyOnShard(s, base), base]);
  return client.query('COMMIT').then(
    () => null,
    (e: Error & { code: string }) => e,
  );
}

/** In-doubt resolution as another proxy instance would do it, after a restart elsewhere. */
export async function resolveFromFreshInstance(config: DatabaseConfig) {
  const db = new Database('app', config, silentLogger);
  try {
    return await db.cluster!.resolve(0);
  } finally {
    await db.close();
  }
}
