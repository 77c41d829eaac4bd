// An INSERT whose date shard key is spelled in a non-ISO style: refused with 0A000 asking for YYYY-MM-DD.
//
// PostgreSQL itself reads '12/07/2026' by DateStyle (July 12 under DMY, December 7 under MDY), and the proxy
// must pick the row's shard before any server reads it, so it refuses rather than guess. The same date in
// ISO form goes in and is found on the one shard that holds it; reads by a non-ISO date ask every shard.
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

beforeAll(async () => {
  cluster = await startCluster({ shards: 2, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  const databasesYaml = shardedDatabasesYaml({ cluster, sharding: { tables: { visits: 'd' } } });
  proxy = await startTestProxy({ databasesYaml });
  client = await connect(proxy.client());
  for (let i = 0; i < 2; i++) direct.push(await connect(shardClient(cluster, i)));
  await client.query('CREATE TABLE visits (d date, note text)');
});

afterAll(async () => {
  for (const c of [client, ...direct]) await c?.end();
  await proxy?.close();
  await cluster?.stop();
});

type PgError = { code?: string; message: string; hint?: string };
const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: PgError) => e,
  );

/** Rows of `visits` with this note on each shard, read from the shards directly. */
async function heldBy(note: string): Promise<number[]> {
  return Promise.all(
    direct.map(async (c) => (await c.query('SELECT 1 FROM visits WHERE note = $1', [note])).rowCount ?? 0),
  );
}

describe('a non-ISO date as a shard key', () => {
  it('is a valid date to PostgreSQL itself', async () => {
    const r = await direct[0].query("SELECT '12/07/2026'::date::text AS d, 'Dec 7 2026'::date::text AS e");
    expect(r.rows[0].e).toBe('2026-12-07');
    expect(r.rows[0].d).toMatch(/^2026-(12-07|07-12)$/);
  });

  for (const spelling of ['12/07/2026', 'Dec 7 2026']) {
    it(`is refused in an INSERT ('${spelling}') with 0A000 asking for YYYY-MM-DD, and no row is written`, async () => {
      const e = await failure(
        client.query(`INSERT INTO visits VALUES ('${spelling}', 'styled ${spelling}')`),
      );
      expect(e?.code).toBe('0A000');
      expect(e?.message).toContain('ISO date (YYYY-MM-DD)');
      expect(e?.message).toContain('visits.d');
      expect(`${e?.message} ${e?.hint}`).not.toMatch(/range|no shard holds/);
      expect(await heldBy(`styled ${spelling}`)).toEqual([0, 0]);
      const p = await failure(client.query('INSERT INTO visits VALUES ($1, $2)', [spelling, 'param']));
      expect(p?.code).toBe('0A000');
    });
  }

  it('is accepted in ISO form, lands on one shard, and is found by a read in either style', async () => {
    await client.query("INSERT INTO visits VALUES ('2026-12-07', 'iso')");
    const held = await heldBy('iso');
    expect(held.reduce((a, b) => a + b, 0)).toBe(1);
    const r = await client.query("SELECT note FROM visits WHERE d = 'Dec 7 2026'");
    expect(r.rows).toEqual([{ note: 'iso' }]);
  });
});
