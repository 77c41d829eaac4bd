// COPY FROM STDIN into a table sharded by a text key: tricky rows land where PostgreSQL's hash partitioning puts them,
// with the same values one PostgreSQL stores from the same data.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import { createAppDatabase, shardClient, shardedDatabasesYaml } from './sharding-helpers.js';

let cluster: Cluster;
let proxy: TestProxy;
let client: pg.Client;
const direct: pg.Client[] = [];

/** Text-format rows whose key (the second column) needs escapes, octal, hex, or follows an escaped delimiter. */
const textRows = [
  'a\\\tb\tk1\t1\n',
  'a\\\\\tk\\\\2\t2\n',
  'x\\\ny\tk\\t3\t3\n',
  'p\t\\1534\t4\n',
  'q\tk\\x355\t5\n',
  'r\tü6\t6\n',
  ...Array.from({ length: 200 }, (_, i) => `n${i}\tkey ${i}\t${100 + i}\n`),
];

/** CSV rows: quoted delimiters, doubled quotes and a newline inside quotes before and in the key. */
const csvRows = [
  '"a,b","k,1",1\n',
  '"two\nlines","k""2",2\n',
  'plain,k3,3\n',
  ...Array.from({ length: 200 }, (_, i) => `"n ${i}","key,${i}",${100 + i}\n`),
];

async function copyIn(c: pg.Client, sql: string, rows: string[]): Promise<number> {
  const stream = c.query(copyFrom(sql));
  await pipeline(Readable.from(rows), stream);
  return stream.rowCount ?? -1;
}

const all = (c: pg.Client, table: string) =>
  c.query(`SELECT note, k, v FROM ${table} ORDER BY v`).then((r) => r.rows as unknown[]);

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  const databasesYaml = shardedDatabasesYaml({ cluster, sharding: { tables: { items: 'k' } } });
  proxy = await startTestProxy({ databasesYaml });
  client = await connect(proxy.client());
  for (let i = 0; i < 3; i++) direct.push(await connect(shardClient(cluster, i)));
  await client.query('CREATE TABLE items (note text, k text, v int)');
  // The reference: one PostgreSQL, hash-partitioned as the proxy places rows.
  await direct[0].query(`
    CREATE TABLE ref (note text, k text, v int) PARTITION BY HASH (k);
    CREATE TABLE ref_0 PARTITION OF ref FOR VALUES WITH (MODULUS 3, REMAINDER 0);
    CREATE TABLE ref_1 PARTITION OF ref FOR VALUES WITH (MODULUS 3, REMAINDER 1);
    CREATE TABLE ref_2 PARTITION OF ref FOR VALUES WITH (MODULUS 3, REMAINDER 2);
  `);
});

afterAll(async () => {
  await client?.end();
  for (const d of direct) await d.end();
  await proxy?.close();
  await cluster?.stop();
});

/** Each shard's rows, as the reference's partition of the same number holds them. */
async function expectPlacedAsReference(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const shard = await all(direct[i], 'items');
    expect(shard).toEqual(await all(direct[0], `ref_${i}`));
  }
  expect(await all(client, 'items')).toEqual(await all(direct[0], 'ref'));
}

describe('COPY into shards by a text key', () => {
  it('text format: tricky rows are placed and stored as one hash-partitioned PostgreSQL does', async () => {
    const sql = (t: string) => `COPY ${t} (note, k, v) FROM STDIN`;
    expect(await copyIn(client, sql('items'), textRows)).toBe(textRows.length);
    expect(await copyIn(direct[0], sql('ref'), textRows)).toBe(textRows.length);
    await expectPlacedAsReference();
    const keys = (await client.query('SELECT k FROM items WHERE v < 7 ORDER BY v')).rows.map((r) => r.k);
    expect(keys).toEqual(['k1', 'k\\2', 'k\t3', 'k4', 'k55', 'ü6']);
  });

  it('CSV: quoted delimiters, doubled quotes and newlines in quotes', async () => {
    await client.query('TRUNCATE items');
    await direct[0].query('TRUNCATE ref');
    const sql = (t: string) => `COPY ${t} (note, k, v) FROM STDIN WITH (FORMAT csv)`;
    expect(await copyIn(client, sql('items'), csvRows)).toBe(csvRows.length);
    expect(await copyIn(direct[0], sql('ref'), csvRows)).toBe(csvRows.length);
    await expectPlacedAsReference();
  });

  it('refuses a bare carriage return with 22P04, as PostgreSQL does, and copies nothing', async () => {
    await client.query('TRUNCATE items');
    const err = await copyIn(client, 'COPY items (note, k, v) FROM STDIN', ['a\tk\t1\r2\tk\t2\n']).catch(
      (e: { code: string }) => e,
    );
    expect(err).toMatchObject({ code: '22P04' });
    const plain = await copyIn(direct[0], 'COPY ref (note, k, v) FROM STDIN', ['a\tk\t1\r2\tk\t2\n']).catch(
      (e: { code: string }) => e,
    );
    expect(plain).toMatchObject({ code: '22P04' });
    expect((await client.query('SELECT count(*)::int AS n FROM items')).rows).toEqual([{ n: 0 }]);
  });

  it('refuses binary COPY with 0A000 rather than splitting it as text', async () => {
    const err = await copyIn(client, 'COPY items FROM STDIN WITH (FORMAT binary)', []).catch(
      (e: { code: string }) => e,
    );
    expect(err).toMatchObject({ code: '0A000' });
  });
});
