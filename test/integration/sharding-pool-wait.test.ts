// Single-shard statements that find every connection of their shard busy: they wait for the next one.
//
// One connection per shard, so a transaction block holding a shard's connection makes every other
// client's statement for that shard wait; each answer is checked against the row its shard holds.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect, rejection } from './helpers/tools.js';
import { RawConnection } from './helpers/raw-client.js';
import { Frontend } from '../../src/protocol/codes.js';
import { MessageWriter } from '../../src/protocol/writer.js';
import { createAppDatabase, keyOnShard, shardedDatabasesYaml } from './sharding-helpers.js';

let cluster: Cluster;
let proxy: TestProxy;
const clients: pg.Client[] = [];
const keys = Array.from({ length: 60 }, (_, i) => i + 1);

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  const databasesYaml = shardedDatabasesYaml({
    cluster,
    poolSize: 1,
    acquireTimeout: '700ms',
    sharding: { tables: { items: 'id' } },
  });
  proxy = await startTestProxy({ databasesYaml });
  for (let i = 0; i < 6; i++) clients.push(await connect(proxy.client()));
  const [c] = clients;
  await c.query('CREATE TABLE items (id int8 PRIMARY KEY, name text)');
  await c.query(`INSERT INTO items VALUES ${keys.map((k) => `(${k}, 'item ${k}')`).join(', ')}`);
  // Each shape once, so later ones take the fast path (a simple query's shape is learnt on its first run).
  for (const c of clients) {
    await c.query('SELECT name FROM items WHERE id = 1');
    await c.query('SELECT name FROM items WHERE id = $1', [1]);
  }
});

afterAll(async () => {
  for (const c of clients) await c.end();
  await proxy?.close();
  await cluster?.stop();
});

const query = (sql: string) => new MessageWriter(Frontend.Query).cstring(sql).finish();

/** Resolves to 'pending' when `p` has not settled after `ms`. */
async function stateAfter(p: Promise<unknown>, ms: number): Promise<'pending' | 'settled'> {
  const pending = new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms));
  return Promise.race([p.then(() => 'settled' as const), pending]);
}

/** Opens a block on `holder` that holds the only connection of `shard` until the returned function runs. */
async function holdShard(holder: pg.Client, shard: number): Promise<() => Promise<void>> {
  await holder.query('BEGIN');
  await holder.query(`SELECT name FROM items WHERE id = ${keyOnShard(shard, 1)}`);
  return async () => {
    await holder.query('COMMIT');
  };
}

describe('a statement whose shard has no idle connection', () => {
  it('waits for the next one in both protocols, and other shards go on meanwhile', async () => {
    const [holder, simple, extended, other] = clients;
    const release = await holdShard(holder, 0);
    const k = keyOnShard(0, 10);
    const bySimple = simple.query(`SELECT name FROM items WHERE id = ${k}`);
    const byParam = extended.query('SELECT name FROM items WHERE id = $1', [k]);
    expect(await stateAfter(Promise.all([bySimple, byParam]), 200)).toBe('pending');
    const elsewhere = keyOnShard(1, 10);
    expect((await other.query(`SELECT name FROM items WHERE id = ${elsewhere}`)).rows).toEqual([
      { name: `item ${elsewhere}` },
    ]);
    await release();
    expect((await bySimple).rows).toEqual([{ name: `item ${k}` }]);
    expect((await byParam).rows).toEqual([{ name: `item ${k}` }]);
  });

  it('answers 53300 with advice after acquire_timeout, and the client goes on', async () => {
    const [holder, waiter] = clients;
    const release = await holdShard(holder, 2);
    const k = keyOnShard(2, 20);
    const simple = await rejection(waiter.query(`SELECT name FROM items WHERE id = ${k}`));
    expect(simple.code).toBe('53300');
    expect(simple.message).toMatch(/raise pool\.size or pool\.acquire_timeout/);
    const extended = await rejection(waiter.query('SELECT name FROM items WHERE id = $1', [k]));
    expect(extended.code).toBe('53300');
    await release();
    expect((await waiter.query(`SELECT name FROM items WHERE id = ${k}`)).rows).toEqual([
      { name: `item ${k}` },
    ]);
    expect((await waiter.query('SELECT name FROM items WHERE id = $1', [k])).rows).toEqual([
      { name: `item ${k}` },
    ]);
  });

  it('runs a named statement the waited-for connection lacks, prepared there first', async () => {
    const [holder, waiter] = clients;
    const release = await holdShard(holder, 1);
    const k = keyOnShard(1, 30);
    const named = waiter.query({
      name: 'wait_by_id',
      text: 'SELECT id, name FROM items WHERE id = $1',
      values: [k],
    });
    expect(await stateAfter(named, 150)).toBe('pending');
    await release();
    expect((await named).rows).toEqual([{ id: String(k), name: `item ${k}` }]);
    const again = await waiter.query({
      name: 'wait_by_id',
      text: 'SELECT id, name FROM items WHERE id = $1',
      values: [k + 1],
    });
    expect(again.rows).toEqual([{ id: String(k + 1), name: `item ${k + 1}` }]);
  });

  it('is not run when its client leaves while it waits', async () => {
    const [holder, other] = clients;
    // The shape once, so the raw client's update takes the fast path (and waits there).
    await other.query(`UPDATE items SET name = 'item 2' WHERE id = 2`);
    const release = await holdShard(holder, 2);
    const k = keyOnShard(2, 40);
    const { conn } = await RawConnection.login(proxy.port, {
      user: 'app',
      password: 'app-secret',
      database: 'app',
    });
    conn.write(query(`UPDATE items SET name = 'left behind' WHERE id = ${k}`));
    await new Promise((r) => setTimeout(r, 100));
    conn.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    await release();
    expect((await other.query(`SELECT name FROM items WHERE id = ${k}`)).rows).toEqual([
      { name: `item ${k}` },
    ]);
  });

  it('gets every answer right when six clients share one connection per shard', async () => {
    const answers = await Promise.all(
      clients.map(async (c, i) => {
        const seen: [number, unknown][] = [];
        for (let n = 0; n < 40; n++) {
          const k = keys[(i * 17 + n * 7) % keys.length];
          const r =
            n % 3 === 0
              ? await c.query(`SELECT name FROM items WHERE id = ${k}`)
              : n % 3 === 1
                ? await c.query('SELECT name FROM items WHERE id = $1', [k])
                : await c.query({ name: 'by_id', text: 'SELECT name FROM items WHERE id = $1', values: [k] });
          seen.push([k, r.rows]);
        }
        return seen;
      }),
    );
    for (const seen of answers) for (const [k, rows] of seen) expect(rows).toEqual([{ name: `item ${k}` }]);
  });
});
