// Shards with streaming replicas: reads outside a block go to a replica of the shard, and a client's own
// writes are visible to its next reads (read-your-writes per shard) even when the replica lags behind.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import { createAppDatabase, shardedDatabasesYaml } from './sharding-helpers.js';

let cluster: Cluster;
let proxy: TestProxy;
let writer: pg.Client;

beforeAll(async () => {
  // Each shard's one replica applies WAL a second late, so a read that reached it would miss a fresh write.
  cluster = await startCluster({ shards: 2, replicasPerShard: 1, delayedReplicaMs: 1000 });
  await createAppDatabase(cluster);
  proxy = await startTestProxy({
    databasesYaml: shardedDatabasesYaml({ cluster, replicas: true, sharding: { tables: { notes: 'id' } } }),
  });
  writer = await connect(proxy.client());
  await writer.query('CREATE TABLE notes (id int8 PRIMARY KEY, body text)');
  // The table reaches the replicas a second later.
  for (const shard of cluster.shards) {
    await waitFor(
      async () =>
        (
          await shard.replicas[0].psql("SELECT count(*) FROM pg_tables WHERE tablename = 'notes'", 'app')
        ).trim() === '1' || null,
      { what: 'the table on the replica', timeoutMs: 20_000 },
    );
  }
}, 120_000);

afterAll(async () => {
  await writer?.end();
  await proxy?.close();
  await cluster?.stop();
});

describe('sharded reads with replicas', () => {
  it('sends a read outside a block to a replica', async () => {
    const reader = await connect(proxy.client());
    try {
      const onReplica = await waitFor(
        async () => ((await reader.query('SELECT pg_is_in_recovery() AS r')).rows[0].r as boolean) || null,
        { what: 'a read served by a replica', timeoutMs: 10_000 },
      );
      expect(onReplica).toBe(true);
      await reader.query('BEGIN');
      const inBlock = await reader.query('SELECT pg_is_in_recovery() AS r');
      await reader.query('COMMIT');
      expect(inBlock.rows[0].r).toBe(false);
    } finally {
      await reader.end();
    }
  });

  it('shows a client its own writes at once, on every shard, although the replicas lag', async () => {
    for (let id = 1; id <= 8; id++) {
      await writer.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [id, `note ${id}`]);
      expect((await writer.query('SELECT body FROM notes WHERE id = $1', [id])).rows).toEqual([
        { body: `note ${id}` },
      ]);
    }
    await writer.query('BEGIN');
    await writer.query("INSERT INTO notes (id, body) VALUES (100, 'a'), (101, 'b'), (102, 'c')");
    await writer.query('COMMIT');
    const all = await writer.query('SELECT count(*) AS n FROM notes');
    expect(all.rows).toEqual([{ n: '11' }]);
  });
});
