// Helpers for sharding tests: three shards started by the test, a proxy over them, direct clients, a plain twin.
import type pg from 'pg';
import { stringify } from 'yaml';
import { Database } from '../../src/backend/database.js';
import type { DatabaseConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/logger.js';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { RawConnection } from './helpers/raw-client.js';
import { connect } from './helpers/tools.js';

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
  return databaseEntryYaml(o.name ?? 'app', db);
}

/** One `databases:` entry as YAML lines, each indented under `databases:`. */
export function databaseEntryYaml(name: string, db: Record<string, unknown>): string {
  return stringify({ [name]: db })
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

/** Every value as the server's text: comparisons see exactly what PostgreSQL sent. */
export const rawTypes = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

export type Answer = { rows: unknown[][]; tag: string } | { error: string; hint?: string; message: string };

/** A statement's rows (as text, sorted) and command tag, or its error as data. */
export async function sortedAnswer(c: pg.Client, sql: string, values?: unknown[]): Promise<Answer> {
  try {
    const r = await c.query({ text: sql, values, rowMode: 'array', types: rawTypes });
    const out = ((r.rows ?? []) as unknown[][]).map((row) => [...row]);
    out.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    return { rows: out, tag: `${r.command} ${r.rowCount ?? ''}` };
  } catch (err) {
    const e = err as Error & { code?: string; hint?: string };
    return { error: e.code ?? 'none', hint: e.hint, message: e.message };
  }
}

/** Range sharding of `column` over three shards: below 100, 100 to 200, from 200. */
export function hundredRanges(column: string) {
  const ranges = [
    { shard: 0, to: 100 },
    { shard: 1, from: 100, to: 200 },
    { shard: 2, from: 200 },
  ];
  return { column, algorithm: 'range', ranges };
}

/** List sharding of `column`: each shard with its values, in this order. */
export function listSharding(column: string, lists: [shard: number, values: string[]][]) {
  return { column, algorithm: 'list', lists: lists.map(([shard, values]) => ({ shard, values })) };
}

export interface ShardedRigOptions extends Omit<ShardedYamlOptions, 'cluster'> {
  /** Shard servers (default 3). */
  shards?: number;
  /** The `databases:` entries when shardedDatabasesYaml's do not fit (e.g. three shard databases on one server). */
  databasesYaml?: (cluster: Cluster) => Promise<string>;
  /** A plain database of this name on the shared server (C collation, made afresh) to compare answers with. */
  single?: string;
  /** Clients to every shard primary's `app`. */
  direct?: boolean;
}

export interface ShardedRig {
  cluster: Cluster;
  proxy: TestProxy;
  /** A client through the proxy. */
  sharded: pg.Client;
  /** The plain database (only with `single`). */
  readonly single: pg.Client;
  /** One per shard, in config order (only with `direct`). */
  direct: pg.Client[];
  /** Another client through the proxy, ended by stop(). */
  connect(): Promise<pg.Client>;
  /** Ends every client, the proxy and the shards, and drops the plain database. */
  stop(): Promise<void>;
}

async function recreateDatabase(name: string, drop = false): Promise<void> {
  const admin = await connect(directConfig('postgres'));
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    if (!drop) await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`);
  } finally {
    await admin.end();
  }
}

/** Shards (database `app` on each), a proxy over them with `sharding`, and the clients a test asked for. */
export async function startShardedRig(o: ShardedRigOptions): Promise<ShardedRig> {
  const cluster = await startCluster({ shards: o.shards ?? 3, replicasPerShard: 0 });
  const clients: pg.Client[] = [];
  let proxy: TestProxy | undefined;
  const stop = async () => {
    for (const c of clients) await c.end().catch(() => {});
    await proxy?.close();
    await cluster.stop();
    if (o.single) await recreateDatabase(o.single, true);
  };
  const open = async (config: pg.ClientConfig) => {
    const c = await connect(config);
    clients.push(c);
    return c;
  };
  try {
    await createAppDatabase(cluster);
    const databasesYaml = o.databasesYaml
      ? await o.databasesYaml(cluster)
      : shardedDatabasesYaml({ ...o, cluster });
    proxy = await startTestProxy({ databasesYaml });
    const through = proxy;
    const sharded = await open(through.client());
    const direct = o.direct
      ? await Promise.all(cluster.shards.map((_, i) => open(shardClient(cluster, i))))
      : [];
    if (o.single) await recreateDatabase(o.single);
    const single = o.single ? await open(directConfig(o.single)) : undefined;
    return {
      cluster,
      proxy: through,
      sharded,
      get single() {
        if (!single) throw new Error('the sharded rig was not asked for a plain database');
        return single;
      },
      direct,
      connect: () => open(through.client()),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Runs `compare` with two raw protocol connections: one straight to `database` on the first shard's primary
 * (plain PostgreSQL) and one to the proxy's `app` database; both are closed afterwards.
 */
export async function withRawPair(
  cluster: Cluster,
  proxy: TestProxy,
  database: string,
  compare: (direct: RawConnection, viaProxy: RawConnection) => Promise<void>,
): Promise<void> {
  const shard = cluster.shards[0].primary;
  const login = { user: 'postgres', password: cluster.password, database };
  const direct = await RawConnection.login(shard.port, login, shard.host);
  const viaProxy = await RawConnection.login(proxy.port, {
    user: 'app',
    password: 'app-secret',
    database: 'app',
  });
  try {
    await compare(direct.conn, viaProxy.conn);
  } finally {
    direct.conn.end();
    viaProxy.conn.end();
  }
}
