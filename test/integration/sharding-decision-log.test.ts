// The two-phase commit decision log is created once per shard: concurrent first commits on fresh shards succeed.
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import { keyOnShard } from './sharding-helpers.js';

let cluster: Cluster;
const proxies: TestProxy[] = [];

/** A sharded database over fresh databases named `database` on every shard (three shards). */
function freshDatabaseYaml(database: string, poolSize: number): string {
  const db = {
    backend: { user: 'postgres', password: cluster.password, database, connect_timeout: '5s' },
    pool: { mode: 'transaction', size: poolSize, acquire_timeout: '20s' },
    shards: cluster.shards.map((s) => ({ primary: `${s.primary.host}:${s.primary.port}` })),
    sharding: { tables: { accounts: 'id' } },
  };
  return stringify({ app: db })
    .split('\n')
    .map((line) => (line ? `  ${line}` : line))
    .join('\n');
}

/** Makes `database` on every shard with the `accounts` table, and no decision log yet. */
async function freshShards(database: string): Promise<void> {
  await Promise.all(
    cluster.shards.map(async (s) => {
      await s.primary.psql(`CREATE DATABASE ${database}`);
      await s.primary.psql('CREATE TABLE accounts (id int8 PRIMARY KEY, v int)', database);
    }),
  );
}

async function startProxyOn(database: string, poolSize: number): Promise<TestProxy> {
  const proxy = await startTestProxy({ databasesYaml: freshDatabaseYaml(database, poolSize) });
  proxies.push(proxy);
  return proxy;
}

/**
 * `n` clients each write a row on shard 0 and one on shard 1 in a block, then all COMMIT at once (two-phase
 * commits whose decisions are the first on the shards); the COMMITs' errors, or null.
 */
async function concurrentFirstCommits(configs: pg.ClientConfig[], first = 1): Promise<(string | null)[]> {
  const clients = await Promise.all(configs.map((c) => connect(c)));
  try {
    await Promise.all(
      clients.map(async (client, i) => {
        const base = 1000 * (first + i);
        await client.query('BEGIN');
        await client.query('INSERT INTO accounts (id, v) VALUES ($1, $2)', [keyOnShard(0, base), base]);
        await client.query('INSERT INTO accounts (id, v) VALUES ($1, $2)', [keyOnShard(1, base), base]);
      }),
    );
    return await Promise.all(
      clients.map((client) =>
        client.query('COMMIT').then(
          () => null,
          (err: Error) => err.message,
        ),
      ),
    );
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}

async function rowsOn(database: string): Promise<number[]> {
  const counts = await Promise.all(
    cluster.shards.map((s) => s.primary.psql('SELECT count(*) FROM accounts', database)),
  );
  return counts.map(Number);
}

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  await cluster?.stop();
});

describe('decision log on fresh shards', () => {
  it('twenty concurrent first cross-shard commits all succeed', async () => {
    await freshShards('fresh_one');
    const proxy = await startProxyOn('fresh_one', 25);
    const errors = await concurrentFirstCommits(Array.from({ length: 20 }, () => proxy.client()));
    expect(errors).toEqual(new Array(20).fill(null));
    const [s0, s1, s2] = await rowsOn('fresh_one');
    expect([s0, s1, s2]).toEqual([20, 20, 0]);
    expect(
      await cluster.shards[0].primary.psql('SELECT count(*) FROM polyproxy.tx_decisions', 'fresh_one'),
    ).toBe('0');
    expect(await cluster.shards[0].primary.psql('SELECT count(*) FROM pg_prepared_xacts')).toBe('0');
  });

  it('two proxy instances starting at once on the same fresh shards both commit', async () => {
    await freshShards('fresh_two');
    const [a, b] = await Promise.all([startProxyOn('fresh_two', 12), startProxyOn('fresh_two', 12)]);
    const errors = await concurrentFirstCommits(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).client()),
    );
    expect(errors).toEqual(new Array(20).fill(null));
    expect(await rowsOn('fresh_two')).toEqual([20, 20, 0]);
  });

  it('creates the log again when the shard database was made anew', async () => {
    await freshShards('fresh_three');
    const proxy = await startProxyOn('fresh_three', 4);
    expect(await concurrentFirstCommits([proxy.client()])).toEqual([null]);
    await cluster.shards[0].primary.psql('DROP SCHEMA polyproxy CASCADE', 'fresh_three');
    expect(await concurrentFirstCommits([proxy.client(), proxy.client()], 2)).toEqual([null, null]);
    expect(await rowsOn('fresh_three')).toEqual([3, 3, 0]);
  });
});
