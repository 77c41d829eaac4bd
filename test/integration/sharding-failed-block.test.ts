// A failed transaction block on a sharded database, as drivers end it: answered as one PostgreSQL answers.
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import { createAppDatabase, shardedDatabasesYaml } from './sharding-helpers.js';

let cluster: Cluster;
let proxy: TestProxy;

beforeAll(async () => {
  cluster = await startCluster({ shards: 2, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  const sharding = { tables: { accounts: 'id' }, coordinator: 'off' };
  proxy = await startTestProxy({ databasesYaml: shardedDatabasesYaml({ cluster, sharding }) });
  const c = await connect(proxy.client());
  await c.query('CREATE TABLE accounts (id int PRIMARY KEY, owner text)');
  await c.end();
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await cluster?.stop();
});

it('lets postgres.js roll back a block whose statement failed, and keeps the connection usable', async () => {
  const sql = postgres(proxy.url(), { max: 1, onnotice: () => {} });
  try {
    const duplicate = await sql
      .begin(async (tx) => {
        await tx`INSERT INTO accounts (id, owner) VALUES (${1}, 'a')`;
        await tx`INSERT INTO accounts (id, owner) VALUES (${1}, 'a')`;
      })
      .catch((e: { code: string }) => e);
    expect(duplicate).toMatchObject({ code: '23505' });
    const [{ count }] = await sql`SELECT count(*) FROM accounts`;
    expect(count).toBe('0');
    const division = await sql
      .begin(async (tx) => {
        await tx`SELECT 1 / ${0}::int`;
      })
      .catch((e: { code: string }) => e);
    expect(division).toMatchObject({ code: '22012' });
    await sql.begin(async (tx) => {
      await tx`INSERT INTO accounts (id, owner) VALUES (${2}, 'b')`;
    });
    expect(await sql`SELECT owner FROM accounts WHERE id = ${2}`).toEqual([{ owner: 'b' }]);
  } finally {
    await sql.end();
  }
});
