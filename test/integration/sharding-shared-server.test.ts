// Several shards as databases of one PostgreSQL server: placement, routing, two-phase commit and recovery.
//
// Prepared-transaction names are unique per server, not per database, so shards sharing a server must
// prepare one transaction under different names; the resolver must still see them as one transaction.
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { failpoints } from '../../src/backend/two-phase.js';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect, withClient } from './helpers/tools.js';
import { keyOnShard, resolveFromFreshInstance, writeOnThreeShards } from './sharding-helpers.js';

let cluster: Cluster;
let proxy: TestProxy;
let client: pg.Client;
/** One client per shard database, straight to the server. */
const direct: pg.Client[] = [];
const shardDatabases = ['s0', 's1', 's2'];

const onShard = keyOnShard;

async function ids(): Promise<number[][]> {
  return Promise.all(
    direct.map(async (d) =>
      (await d.query('SELECT id FROM accounts ORDER BY id')).rows.map((r) => Number(r.id)),
    ),
  );
}

async function preparedCount(): Promise<number> {
  const r = await direct[0].query(
    "SELECT count(*)::int AS n FROM pg_prepared_xacts WHERE gid LIKE 'polyproxy_%'",
  );
  return r.rows[0].n as number;
}

beforeAll(async () => {
  cluster = await startCluster({ shards: 1, replicasPerShard: 0 });
  const server = cluster.shards[0].primary;
  for (const name of shardDatabases) await server.psql(`CREATE DATABASE ${name}`);
  const address = `${server.host}:${server.port}`;
  proxy = await startTestProxy({
    extraUsers: ['{ name: ops, password: ops-secret, admin: true }'],
    databasesYaml: [
      '  app:',
      `    backend: { user: postgres, password: ${JSON.stringify(cluster.password)}, database: app }`,
      '    pool: { mode: transaction, size: 2 }',
      `    shards: [${shardDatabases.map((d) => `{ primary: "${address}", database: ${d} }`).join(', ')}]`,
      '    sharding: { tables: { accounts: id } }',
    ].join('\n'),
  });
  for (const database of shardDatabases)
    direct.push(
      await connect({
        host: server.host,
        port: server.port,
        user: 'postgres',
        password: cluster.password,
        database,
      }),
    );
  client = await connect(proxy.client());
  await client.query('CREATE TABLE accounts (id int8 PRIMARY KEY, v int)');
});

afterEach(() => {
  failpoints.afterPrepare = undefined;
  failpoints.afterDecision = undefined;
});

afterAll(async () => {
  for (const c of [client, ...direct]) await c?.end();
  await proxy?.close();
  await cluster?.stop();
});

describe('shards as databases of one server', () => {
  it('places rows by hash in each shard database and reads them back by key and across shards', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => `(${i + 1}, ${i})`).join(', ');
    await client.query(`INSERT INTO accounts VALUES ${rows}`);
    const placed = await ids();
    for (let s = 0; s < 3; s++) {
      expect(placed[s].length).toBeGreaterThan(0);
      for (const id of placed[s]) expect(hashShard('int', BigInt(id), 3)).toBe(s);
    }
    for (let id = 1; id <= 60; id++) {
      const r = await client.query({ text: `SELECT v FROM accounts WHERE id = ${id}`, rowMode: 'array' });
      expect(r.rows).toEqual([[id - 1]]);
    }
    const total = await client.query('SELECT count(*)::int AS n, sum(v)::int AS s FROM accounts');
    expect(total.rows).toEqual([{ n: 60, s: (59 * 60) / 2 }]);
  });

  it('commits a transaction over the three shard databases with two-phase commit', async () => {
    expect(await writeOnThreeShards(client, 1000)).toBeNull();
    const placed = await ids();
    for (let s = 0; s < 3; s++) expect(placed[s]).toContain(onShard(s, 1000));
    expect(await preparedCount()).toBe(0);
  });

  it('finishes a transaction whose coordinator stopped after the decision, on every shard database', async () => {
    failpoints.afterDecision = () => true;
    expect(await writeOnThreeShards(client, 2000)).toMatchObject({ code: '08006' });
    expect(await preparedCount()).toBe(3);
    const outcome = await resolveFromFreshInstance(proxy.config.databases.app);
    expect(outcome).toEqual({ committed: [expect.any(String)], rolledBack: [] });
    expect(await preparedCount()).toBe(0);
    const placed = await ids();
    for (let s = 0; s < 3; s++) expect(placed[s]).toContain(onShard(s, 2000));
  });

  it('rolls back on every shard database a transaction stopped before the decision', async () => {
    failpoints.afterPrepare = () => true;
    expect(await writeOnThreeShards(client, 3000)).toMatchObject({ code: '08006' });
    expect(await preparedCount()).toBe(3);
    const outcome = await resolveFromFreshInstance(proxy.config.databases.app);
    expect(outcome).toEqual({ committed: [], rolledBack: [expect.any(String)] });
    expect(await preparedCount()).toBe(0);
    const placed = await ids();
    for (let s = 0; s < 3; s++) expect(placed[s]).not.toContain(onShard(s, 3000));
  });

  it('names each shard database in the admin console', async () => {
    const server = cluster.shards[0].primary;
    const config = { ...proxy.client('ops', 'polyproxy'), password: 'ops-secret' };
    const pools = await withClient(config, async (c) => (await c.query('SHOW POOLS')).rows);
    const address = `${server.host}:${server.port}`;
    expect(pools.map((r) => [r.shard, r.server])).toEqual(
      shardDatabases.map((d, i) => [String(i), `${address}/${d}`]),
    );
  });
});
