// 1 -> N in a running proxy: RESHARD moves an unsharded database (one PostgreSQL) to 3 shards while clients
// stay connected. The same connections then run their named prepared statement, keep their SET settings, and
// read and write on the new shards (their sessions moved from forwarding to the engine at a transaction
// boundary); a client idle in a transaction at the start finishes it and its row is on the new shards; a
// ledger of 4 loading clients checks no acknowledged write was lost or duplicated and no statement failed.
import type pg from 'pg';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logger.js';
import { startProxy, type Proxy } from '../../src/proxy.js';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import { freePort } from '../../src/sandbox/ports.js';
import { connect, sleep } from './helpers/tools.js';
import { client, createDatabases, fill, initialItems, schemaSql } from './reshard-helpers.js';
import { runLoad } from './reshard-load.js';

const old = 'om_old_0';
const fresh = ['om_new_0', 'om_new_1', 'om_new_2'];
/** The database the REVERT test moves to 3 shards and back. */
const backOld = 'omr_old_0';
const backFresh = ['omr_new_0', 'omr_new_1', 'omr_new_2'];
const idleId = 4_000_001;
const preparedId = 4_000_002;
let proxy: Proxy;
let port: number;
const opened: pg.Client[] = [];

/** An unsharded database over `from`, with a reshard target "three" (3 shards, items and notes sharded). */
function databaseYaml(name: string, from: string, to: string[]): string {
  const ctx = inject('pg');
  const shard = (db: string) => `{ primary: "${ctx.host}:${ctx.port}", database: ${db} }`;
  return `
  ${name}:
    backend: { user: postgres, password: "${ctx.password}", database: ${from} }
    pool: { size: 8 }
    shards: [${shard(from)}]
    reshard:
      pause_timeout: 20s
      targets:
        three:
          shards: [${to.map(shard).join(', ')}]
          sharding: { tables: { items: id, notes: tag }, reference: [countries] }`;
}

function configYaml(listen: number): string {
  return `
listen: 127.0.0.1:${listen}
log: { level: warn }
users:
  - { name: app, password: app-secret }
  - { name: ops, password: ops-secret, admin: true }
databases:${databaseYaml('app', old, fresh)}${databaseYaml('back', backOld, backFresh)}
`;
}

const appConfig = (database = 'app'): pg.ClientConfig => ({
  host: '127.0.0.1',
  port,
  user: 'app',
  password: 'app-secret',
  database,
});

async function appClient(database = 'app'): Promise<pg.Client> {
  const c = await connect(appConfig(database));
  opened.push(c);
  return c;
}

/** SHOW RESHARD's row for the database once `done` says so. */
async function reshardRow(
  admin: pg.Client,
  done: (row: Record<string, unknown>) => boolean,
  database = 'app',
): Promise<Record<string, unknown>> {
  for (let i = 0; i < 3000; i++) {
    const row = (await admin.query('SHOW RESHARD')).rows.find((r) => r.database === database);
    if (row && done(row)) return row;
    await sleep(20);
  }
  throw new Error('the reshard did not get there');
}

/** The items with ids of `ids` on each new shard, read from the shard databases directly. */
async function newShardRows(where: string): Promise<Map<number, { shard: number; v: number }[]>> {
  const seen = new Map<number, { shard: number; v: number }[]>();
  for (const [shard, name] of fresh.entries()) {
    const c = await client(name);
    const { rows } = await c.query<{ id: string; v: number }>(`SELECT id, v FROM items WHERE ${where}`);
    await c.end();
    for (const r of rows) seen.set(Number(r.id), [...(seen.get(Number(r.id)) ?? []), { shard, v: r.v }]);
  }
  return seen;
}

const shardOf = (id: number) => hashShard('int', BigInt(id), fresh.length);

beforeAll(async () => {
  await createDatabases([old, ...fresh, backOld, ...backFresh]);
  for (const name of [old, backOld]) {
    const c = await client(name);
    await c.query(schemaSql);
    await fill([c]);
    await c.end();
  }
  port = await freePort();
  proxy = await startProxy(parseConfig(configYaml(port)), { logger: silentLogger });
}, 60_000);

afterAll(async () => {
  await Promise.all(opened.map((c) => c.end().catch(() => {})));
  await proxy?.close();
});

describe('reshard 1 -> 3 in a running proxy', () => {
  it('keeps connected clients: prepared statements, settings, an open transaction, every write', async () => {
    const admin = await appClientAs('ops', 'ops-secret', 'polyproxy');
    const prepared = await appClient();
    const get = (id: number) => ({
      name: 'get_item',
      text: 'SELECT v FROM items WHERE id = $1',
      values: [id],
    });
    expect((await prepared.query(get(42))).rows).toEqual([{ v: 42 % 7 }]);
    const settings = await appClient();
    await settings.query("SET application_name = 'one-to-many'");
    await settings.query('SET search_path = public, pg_catalog');
    const idle = await appClient();
    const errors: string[] = [];
    for (const c of [prepared, settings, idle]) c.on('error', (e) => errors.push(e.message));

    let stop = false;
    const load = runLoad(appConfig(), 4, 20_000, () => stop);
    await sleep(300);
    await admin.query('RESHARD app TO three');
    // Opened once the slot exists (making it waits for transactions that wrote), still open when the cutover
    // begins: the cutover waits for it to finish.
    await reshardRow(admin, (row) => row.phase === 'stream' || row.status !== 'running');
    await idle.query('BEGIN');
    await idle.query('INSERT INTO items (id, v) VALUES ($1, 7)', [idleId]);
    await reshardRow(admin, (row) => row.phase === 'cutover' || row.status !== 'running');
    await sleep(200);
    await idle.query('COMMIT');
    const row = await reshardRow(admin, (r) => r.status !== 'running');
    await sleep(500);
    stop = true;
    const result = await load;
    expect(row.error).toBeNull();
    expect(row.status).toBe('switched');
    expect(result.failures).toEqual([]);
    console.log(
      `reshard 1 -> 3 under 4 clients: statements held ${row.paused_ms} ms (${row.pause_detail_ms}), ` +
        `${result.statements} statements, longest ${result.longestMs} ms`,
    );

    // The same connections, not reconnected: the prepared statement by name, the settings, new writes.
    expect((await prepared.query(get(42))).rows).toEqual([{ v: 42 % 7 }]);
    expect((await prepared.query(get(idleId))).rows).toEqual([{ v: 7 }]);
    await prepared.query('INSERT INTO items (id, v) VALUES ($1, 11)', [preparedId]);
    expect((await prepared.query(get(preparedId))).rows).toEqual([{ v: 11 }]);
    expect((await settings.query('SHOW application_name')).rows).toEqual([
      { application_name: 'one-to-many' },
    ]);
    expect((await settings.query('SHOW search_path')).rows).toEqual([{ search_path: 'public, pg_catalog' }]);
    expect((await idle.query('SELECT count(*)::int AS n FROM items WHERE id = $1', [idleId])).rows).toEqual([
      { n: 1 },
    ]);
    expect(errors).toEqual([]);

    // Rows where the new map puts them, each once: the open transaction's, the one written after the switch
    // (on the new shards through the proxy, not copied there: the stream runs new -> old now), the ledger's.
    const mine = await newShardRows(`id IN (${idleId}, ${preparedId})`);
    expect(mine.get(idleId)).toEqual([{ shard: shardOf(idleId), v: 7 }]);
    expect(mine.get(preparedId)).toEqual([{ shard: shardOf(preparedId), v: 11 }]);
    const ledger = await newShardRows('id >= 5000000');
    const seen = new Map<number, number>();
    for (const [id, places] of ledger) {
      expect(places, `item ${id}`).toEqual([{ shard: shardOf(id), v: places[0]!.v }]);
      seen.set(id, places[0]!.v);
    }
    expect(seen).toEqual(result.expected);
    const count = await prepared.query('SELECT count(*)::int AS n FROM items');
    expect(count.rows[0].n).toBe(initialItems + result.expected.size + 2);

    await admin.query('RESHARD app FINISH');
  }, 180_000);

  it('REVERT goes back to the one shard: the same connections keep serving, on it', async () => {
    const admin = await appClientAs('ops', 'ops-secret', 'polyproxy');
    const c = await appClient('back');
    const get = (id: number) => ({
      name: 'get_back',
      text: 'SELECT v FROM items WHERE id = $1',
      values: [id],
    });
    expect((await c.query(get(43))).rows).toEqual([{ v: 43 % 7 }]);
    await c.query("SET application_name = 'there-and-back'");
    await admin.query('RESHARD back TO three');
    const switched = await reshardRow(admin, (r) => r.status !== 'running', 'back');
    expect([switched.status, switched.error]).toEqual(['switched', null]);
    // Through the engine on the 3 shards now; the reverse stream carries the write to the old database.
    await c.query('INSERT INTO items (id, v) VALUES ($1, 13)', [preparedId]);
    await admin.query('RESHARD back REVERT');
    const reverted = await reshardRow(admin, (r) => r.status !== 'switched', 'back');
    expect([reverted.status, reverted.error]).toEqual(['reverted', null]);
    expect((await c.query(get(preparedId))).rows).toEqual([{ v: 13 }]);
    await c.query('UPDATE items SET v = 14 WHERE id = $1', [preparedId]);
    expect((await c.query('SHOW application_name')).rows).toEqual([{ application_name: 'there-and-back' }]);
    const direct = await client(backOld);
    const { rows } = await direct.query('SELECT v FROM items WHERE id = $1', [preparedId]);
    await direct.end();
    expect(rows).toEqual([{ v: 14 }]);
    // A new client of the database, one shard again, is forwarded and sees the same rows.
    const later = await appClient('back');
    expect((await later.query('SELECT count(*)::int AS n FROM items')).rows).toEqual([
      { n: initialItems + 1 },
    ]);
  }, 180_000);
});

async function appClientAs(user: string, password: string, database: string): Promise<pg.Client> {
  const c = await connect({ host: '127.0.0.1', port, user, password, database });
  opened.push(c);
  return c;
}
