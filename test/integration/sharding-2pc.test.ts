// Two-phase commit across shards: a crash between PREPARE and COMMIT PREPARED is finished by another instance.
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/backend/database.js';
import { failpoints } from '../../src/backend/two-phase.js';
import { silentLogger } from '../../src/logger.js';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import {
  createAppDatabase,
  keyOnShard,
  resolveFromFreshInstance,
  shardClient,
  shardedDatabasesYaml,
  writeOnThreeShards,
} from './sharding-helpers.js';

let cluster: Cluster;
let proxy: TestProxy;
let client: pg.Client;
const direct: pg.Client[] = [];

/** Keys 1..n that land on shards 0, 1 and 2, one each. */
const keys: number[] = [];
for (let k = 1; keys.length < 3; k++)
  if (!keys.some((x) => hashShard('int', BigInt(x), 3) === hashShard('int', BigInt(k), 3))) keys.push(k);
const onShard = keyOnShard;

async function preparedCount(): Promise<number[]> {
  return Promise.all(
    direct.map(async (d) =>
      Number(
        (await d.query("SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE 'polyproxy_%'")).rows[0].count,
      ),
    ),
  );
}

async function ids(): Promise<number[]> {
  const rows = await Promise.all(
    direct.map(async (d) => (await d.query('SELECT id FROM accounts')).rows.map((r) => Number(r.id))),
  );
  return rows.flat().sort((a, b) => a - b);
}

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  proxy = await startTestProxy({
    // One connection per shard: the decision is written on shard 0's participant connection.
    databasesYaml: shardedDatabasesYaml({ cluster, poolSize: 1, sharding: { tables: { accounts: 'id' } } }),
  });
  for (let i = 0; i < 3; i++) direct.push(await connect(shardClient(cluster, i)));
  client = await connect(proxy.client());
  await client.query(
    'CREATE TABLE accounts (id int8 PRIMARY KEY, v int, u int UNIQUE DEFERRABLE INITIALLY DEFERRED)',
  );
});

afterEach(() => {
  delete failpoints.afterPrepare;
  delete failpoints.afterDecision;
});

afterAll(async () => {
  await client?.end().catch(() => {});
  for (const d of direct) await d.end();
  await proxy?.close();
  await cluster?.stop();
});

describe('two-phase commit', () => {
  it('commits on every shard and leaves nothing prepared', async () => {
    expect(await writeOnThreeShards(client, 100)).toBeNull();
    expect((await ids()).filter((i) => i >= 100 && i < 200)).toHaveLength(3);
    expect(await preparedCount()).toEqual([0, 0, 0]);
    const log = await direct[0].query('SELECT count(*) FROM polyproxy.tx_decisions');
    expect(Number(log.rows[0].count)).toBe(0);
  });

  it('rolls every shard back when PREPARE fails on one', async () => {
    await client.query('BEGIN');
    await client.query('INSERT INTO accounts (id, v, u) VALUES ($1, 1, 7), ($2, 1, 7)', [
      onShard(0, 200),
      onShard(0, 250),
    ]);
    await client.query('INSERT INTO accounts (id, v) VALUES ($1, 1), ($2, 1)', [
      onShard(1, 200),
      onShard(2, 200),
    ]);
    const e = await client.query('COMMIT').then(
      () => null,
      (x: Error & { code: string }) => x,
    );
    expect(e?.code).toBe('23505');
    expect((await ids()).filter((i) => i >= 200 && i < 300)).toEqual([]);
    expect(await preparedCount()).toEqual([0, 0, 0]);
  });

  it('a crash after the commit decision is committed by another instance', async () => {
    failpoints.afterDecision = () => true;
    const e = await writeOnThreeShards(client, 300);
    expect(e).toMatchObject({ code: '08006' });
    expect(await preparedCount()).toEqual([1, 1, 1]);
    expect((await ids()).filter((i) => i >= 300 && i < 400)).toEqual([]);
    const decided = await direct[0].query('SELECT decision FROM polyproxy.tx_decisions');
    expect(decided.rows).toEqual([{ decision: 'commit' }]);
    const outcome = await resolveFromFreshInstance(proxy.config.databases.app);
    expect(outcome.committed).toHaveLength(1);
    expect(outcome.rolledBack).toEqual([]);
    expect((await ids()).filter((i) => i >= 300 && i < 400)).toHaveLength(3);
    expect(await preparedCount()).toEqual([0, 0, 0]);
  });

  it('a crash before the decision is rolled back by another instance, and a late coordinator cannot commit', async () => {
    failpoints.afterPrepare = () => true;
    expect(await writeOnThreeShards(client, 400)).toMatchObject({ code: '08006' });
    expect(await preparedCount()).toEqual([1, 1, 1]);
    const outcome = await resolveFromFreshInstance(proxy.config.databases.app);
    expect(outcome.rolledBack).toHaveLength(1);
    expect((await ids()).filter((i) => i >= 400 && i < 500)).toEqual([]);
    expect(await preparedCount()).toEqual([0, 0, 0]);
    const decided = await direct[0].query('SELECT decision FROM polyproxy.tx_decisions WHERE gid = $1', [
      outcome.rolledBack[0],
    ]);
    expect(decided.rows).toEqual([{ decision: 'abort' }]);
  });

  it('a resolver leaves young prepared transactions to their coordinator', async () => {
    failpoints.afterDecision = () => true;
    await writeOnThreeShards(client, 500);
    const db = new Database('app', proxy.config.databases.app, silentLogger);
    try {
      expect(await db.cluster!.resolve(60_000)).toEqual({ committed: [], rolledBack: [] });
      expect(await preparedCount()).toEqual([1, 1, 1]);
      expect((await db.cluster!.resolve(0)).committed).toHaveLength(1);
    } finally {
      await db.close();
    }
  });
});
