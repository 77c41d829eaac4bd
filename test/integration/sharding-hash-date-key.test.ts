// A table hash-sharded by a date key, through the proxy: each row lands on the shard PARTITION BY HASH picks.
//
// The expected shard of each date comes from plain PostgreSQL (a table partitioned by hash, modulus 3),
// not from the proxy's own hash; rows go in as literals and as bound parameters and are then looked for
// on every shard directly. Keys of types the proxy cannot hash as PostgreSQL does are refused with 0A000.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import { createAppDatabase, shardClient, shardedDatabasesYaml } from './sharding-helpers.js';

let cluster: Cluster;
let proxy: TestProxy;
let client: pg.Client;
const direct: pg.Client[] = [];

const dates = Array.from({ length: 90 }, (_, i) => {
  const d = new Date(Date.UTC(1950 + ((i * 7) % 100), i % 12, 1 + ((i * 5) % 28)));
  return d.toISOString().slice(0, 10);
});

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  const databasesYaml = shardedDatabasesYaml({
    cluster,
    sharding: { tables: { events: 'd', stamped: 'at', priced: 'price', measured: 'x' } },
  });
  proxy = await startTestProxy({ databasesYaml });
  client = await connect(proxy.client());
  for (let i = 0; i < 3; i++) direct.push(await connect(shardClient(cluster, i)));
  await client.query('CREATE TABLE events (d date, note text)');
});

afterAll(async () => {
  for (const c of [client, ...direct]) await c?.end();
  await proxy?.close();
  await cluster?.stop();
});

/** The partition (0..2) plain PostgreSQL's hash partitioning gives each date. */
async function partitionsOf(values: string[]): Promise<Map<string, number>> {
  const c = direct[0];
  await c.query('DROP TABLE IF EXISTS ref_dates');
  await c.query('CREATE TABLE ref_dates (d date) PARTITION BY HASH (d)');
  for (let r = 0; r < 3; r++)
    await c.query(
      `CREATE TABLE ref_dates_${r} PARTITION OF ref_dates FOR VALUES WITH (MODULUS 3, REMAINDER ${r})`,
    );
  await c.query('INSERT INTO ref_dates SELECT unnest($1::date[])', [values]);
  const { rows } = await c.query<{ d: string; part: string }>(
    'SELECT d::text AS d, tableoid::regclass::text AS part FROM ref_dates',
  );
  await c.query('DROP TABLE ref_dates');
  return new Map(rows.map((r) => [r.d, Number(r.part.slice(-1))]));
}

/** Which shards hold a row of `events` with this note. */
async function shardsHolding(note: string): Promise<number[]> {
  const found: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await direct[i].query('SELECT 1 FROM events WHERE note = $1', [note]);
    if (r.rows.length > 0) found.push(i);
  }
  return found;
}

describe('a date shard key', () => {
  it('places rows inserted as literals and as parameters where PARTITION BY HASH would', async () => {
    const expected = await partitionsOf(dates);
    expect(new Set(expected.values()).size).toBe(3);
    for (const [i, d] of dates.entries()) {
      if (i % 2 === 0) await client.query(`INSERT INTO events VALUES ('${d}', 'lit ${i}')`);
      else await client.query('INSERT INTO events VALUES ($1, $2)', [d, `param ${i}`]);
    }
    const wrong: unknown[] = [];
    for (const [i, d] of dates.entries()) {
      const held = await shardsHolding(`${i % 2 === 0 ? 'lit' : 'param'} ${i}`);
      if (held.length !== 1 || held[0] !== expected.get(d))
        wrong.push({ d, held, expected: expected.get(d) });
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('reads each row back by its key through the proxy', async () => {
    for (const d of dates.slice(0, 30)) {
      const r = await client.query('SELECT count(*)::int AS n FROM events WHERE d = $1', [d]);
      const all = await Promise.all(
        direct.map((c) => c.query('SELECT count(*)::int AS n FROM events WHERE d = $1', [d])),
      );
      expect(r.rows[0].n).toBe(all.reduce((n, x) => n + x.rows[0].n, 0));
      expect(r.rows[0].n).toBeGreaterThan(0);
    }
  });
});

describe('key types the proxy cannot hash as PostgreSQL does', () => {
  for (const [table, column, type] of [
    ['stamped', 'at', 'timestamp with time zone'],
    ['priced', 'price', 'numeric(10,2)'],
    ['measured', 'x', 'double precision'],
  ]) {
    it(`refuses a table keyed by ${type}, naming table, column and type`, async () => {
      await client.query(`CREATE TABLE ${table} (${column} ${type}, v int)`);
      const err = await client.query(`SELECT * FROM ${table} WHERE ${column} = '1'`).then(
        () => null,
        (e: { code?: string; message: string; hint?: string }) => e,
      );
      expect(err?.code).toBe('0A000');
      expect(err?.message).toContain(`"${table}"`);
      expect(err?.message).toContain(`"${column}"`);
      expect(err?.message).toContain(type);
      expect(err?.hint).toMatch(/integer, text or uuid/);
    });
  }
});
