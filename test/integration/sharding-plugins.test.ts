// Plugins on a sharded database: claimed statements answered by the plugin over both protocols, joined to blocks.
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import { createAppDatabase, shardedDatabasesYaml } from './sharding-helpers.js';

const kvModule = path.resolve('src/plugins/examples/kv-memory.ts');

let cluster: Cluster;
let proxy: TestProxy;
let client: pg.Client;

beforeAll(async () => {
  cluster = await startCluster({ shards: 2, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  proxy = await startTestProxy({
    databasesYaml: shardedDatabasesYaml({ cluster, sharding: { tables: { items: 'id' } } }),
    pluginsYaml: `  kv: { module: ${JSON.stringify(kvModule)} }`,
  });
  client = await connect(proxy.client());
  await client.query('CREATE TABLE items (id int8 PRIMARY KEY, label text)');
});

afterAll(async () => {
  await client?.end();
  await proxy?.close();
  await cluster?.stop();
});

describe('plugins on a sharded database', () => {
  it('answers claimed statements over the simple and the extended protocol', async () => {
    await client.query("INSERT INTO kv.entries (key, value) VALUES ('a', '1')");
    await client.query('INSERT INTO kv.entries (key, value) VALUES ($1, $2)', ['b', '2']);
    expect((await client.query('SELECT * FROM kv.entries')).rows).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    expect((await client.query('SELECT value FROM kv.entries WHERE key = $1', ['b'])).rows).toEqual([
      { value: '2' },
    ]);
    await expect(client.query("INSERT INTO kv.entries (key) VALUES ('a')")).rejects.toMatchObject({
      code: '23505',
    });
  });

  it('commits and rolls back plugin work with a block over several shards', async () => {
    await client.query('BEGIN');
    await client.query("INSERT INTO kv.entries (key, value) VALUES ('tx', 'gone')");
    await client.query("INSERT INTO items VALUES (1, 'x'), (2, 'y'), (3, 'z')");
    await client.query('ROLLBACK');
    expect((await client.query("SELECT * FROM kv.entries WHERE key = 'tx'")).rowCount).toBe(0);
    expect((await client.query('SELECT count(*) AS n FROM items')).rows).toEqual([{ n: '0' }]);

    await client.query('BEGIN');
    await client.query("INSERT INTO kv.entries (key, value) VALUES ('tx', 'kept')");
    await client.query("INSERT INTO items VALUES (1, 'x'), (2, 'y'), (3, 'z')");
    await client.query('COMMIT');
    expect((await client.query("SELECT value FROM kv.entries WHERE key = 'tx'")).rows).toEqual([
      { value: 'kept' },
    ]);
    expect((await client.query('SELECT count(*) AS n FROM items')).rows).toEqual([{ n: '3' }]);
  });

  it('fails the block when a plugin statement in it fails', async () => {
    await client.query('BEGIN');
    await expect(client.query("INSERT INTO kv.entries (key) VALUES ('a')")).rejects.toMatchObject({
      code: '23505',
    });
    await expect(client.query('SELECT * FROM items WHERE id = 1')).rejects.toMatchObject({ code: '25P02' });
    await client.query('ROLLBACK');
    expect((await client.query('SELECT label FROM items WHERE id = 1')).rows).toEqual([{ label: 'x' }]);
  });
});
