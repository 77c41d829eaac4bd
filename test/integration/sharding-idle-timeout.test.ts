// idle_transaction_timeout on a sharded database: a client idle in a block over several shards is disconnected
// and its block rolled back on every shard, so the rows it locked are free again.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { errorFields, query, RawConnection } from './helpers/raw-client.js';
import { connect } from './helpers/tools.js';
import { createAppDatabase, keyOnShard, shardedDatabasesYaml } from './sharding-helpers.js';

let cluster: Cluster;
let proxy: TestProxy;
const [a, b] = [keyOnShard(0, 1), keyOnShard(1, 1)];

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  const sharding = { tables: { stock: 'id' }, coordinator: 'off' };
  const pool = { idle_transaction_timeout: '1s' };
  proxy = await startTestProxy({ databasesYaml: shardedDatabasesYaml({ cluster, sharding, pool }) });
  const c = await connect(proxy.client());
  await c.query('CREATE TABLE stock (id int PRIMARY KEY, n int)');
  await c.query('INSERT INTO stock VALUES ($1, 10), ($2, 10)', [a, b]);
  await c.end();
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await cluster?.stop();
});

it('disconnects a client idle in a block over two shards with 25P03 and rolls the block back there', async () => {
  const idle = await RawConnection.login(proxy.port, {
    user: 'app',
    password: 'app-secret',
    database: 'app',
  });
  idle.conn.write(
    query(`BEGIN; UPDATE stock SET n = 0 WHERE id = ${a}; UPDATE stock SET n = 0 WHERE id = ${b}`),
  );
  await idle.conn.untilReady();
  const rest = await idle.conn.untilClosed();
  const errors = rest.filter((m) => m.type === 'E').map((m) => errorFields(m.body));
  expect(errors).toEqual([expect.objectContaining({ severity: 'FATAL', code: '25P03' })]);
  // The rows are unlocked and unchanged: another client updates them at once.
  const c = await connect({ ...proxy.client(), statement_timeout: 5000 });
  try {
    await c.query('UPDATE stock SET n = n + 1 WHERE id IN ($1, $2)', [a, b]);
    const { rows } = await c.query('SELECT n FROM stock ORDER BY id');
    expect(rows).toEqual([{ n: 11 }, { n: 11 }]);
  } finally {
    await c.end();
  }
});

it('leaves alone a client that keeps working in its block, and one idle outside any', async () => {
  const c = await connect(proxy.client());
  try {
    await c.query('BEGIN');
    for (let i = 0; i < 5; i++) await c.query('SELECT pg_sleep(0.4) FROM stock WHERE id = $1', [a]);
    await c.query('COMMIT');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await c.query('SELECT count(*)::int AS n FROM stock')).rows).toEqual([{ n: 2 }]);
  } finally {
    await c.end();
  }
});
