// The cutover in a running proxy: RESHARD on the admin console moves a sharded database from 3 shards to 2
// while 8 clients write and read through the proxy; every acknowledged write is then on the new shard the
// new map names, exactly once, and no client statement failed; FINISH then drops the reverse stream's slots.
// Also two proxy instances switching together, a cutover abandoned when a transaction outlasts pause_timeout,
// and RESHARD ... CANCEL.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logger.js';
import { startProxy, type Proxy } from '../../src/proxy.js';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import { freePort } from '../../src/sandbox/ports.js';
import { connect, sleep } from './helpers/tools.js';
import {
  client,
  createDatabases,
  fill,
  initialItems,
  reshardConfigYaml,
  schemaSql,
} from './reshard-helpers.js';
import { runLoad } from './reshard-load.js';

const old = ['rc_old_0', 'rc_old_1', 'rc_old_2'];
const fresh = ['rc_new_0', 'rc_new_1'];
let proxy: Proxy;
let port: number;
const opened: pg.Client[] = [];

const appConfig = (at = port): pg.ClientConfig => ({
  host: '127.0.0.1',
  port: at,
  user: 'app',
  password: 'app-secret',
  database: 'app',
});

async function consoleClient(at = port): Promise<pg.Client> {
  const c = await connect({
    host: '127.0.0.1',
    port: at,
    user: 'ops',
    password: 'ops-secret',
    database: 'polyproxy',
  });
  opened.push(c);
  return c;
}

/** SHOW RESHARD's row for app once its status is no longer running. */
async function finished(admin: pg.Client): Promise<Record<string, unknown>> {
  for (let i = 0; i < 1500; i++) {
    const row = (await admin.query('SHOW RESHARD')).rows.find((r) => r.database === 'app');
    if (row && row.status !== 'running') return row;
    await sleep(20);
  }
  throw new Error('the reshard did not finish');
}

async function slotsLeft(server = old[0]!): Promise<number> {
  const c = await client(server);
  try {
    const { rows } = await c.query(
      "SELECT 1 FROM pg_replication_slots WHERE slot_name LIKE 'polyproxy_reshard_app_%'",
    );
    return rows.length;
  } finally {
    await c.end();
  }
}

async function setUp(old: string[], fresh: string[]): Promise<void> {
  await createDatabases([...old, ...fresh]);
  const oldClients = await Promise.all(old.map(client));
  for (const c of oldClients) await c.query(schemaSql);
  await fill(oldClients);
  await Promise.all(oldClients.map((c) => c.end()));
}

/** Every acknowledged item on the new shards, once, where the new map puts it. */
async function checkNewShards(fresh: string[], expected: Map<number, number>): Promise<void> {
  const seen = new Map<number, number>();
  for (const [shard, name] of fresh.entries()) {
    const c = await client(name);
    const { rows } = await c.query<{ id: string; v: number }>('SELECT id, v FROM items WHERE id >= 5000000');
    await c.end();
    for (const r of rows) {
      const id = Number(r.id);
      expect(seen.has(id), `item ${id} twice`).toBe(false);
      expect(hashShard('int', BigInt(id), fresh.length), `item ${id} shard`).toBe(shard);
      seen.set(id, r.v);
    }
  }
  expect(seen).toEqual(expected);
}

/** count(DISTINCT v) over the items of the given shard databases, read from each directly. */
async function distinctValues(shards: string[]): Promise<number> {
  const values = new Set<number>();
  for (const name of shards) {
    const c = await client(name);
    const { rows } = await c.query<{ v: number }>('SELECT DISTINCT v FROM items');
    await c.end();
    for (const r of rows) values.add(r.v);
  }
  return values.size;
}

beforeAll(async () => {
  await setUp(old, fresh);
  port = await freePort();
  proxy = await startProxy(parseConfig(reshardConfigYaml({ listen: port, old, fresh })), {
    logger: silentLogger,
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(opened.map((c) => c.end().catch(() => {})));
  await proxy?.close();
});

describe('reshard cutover in a running proxy', () => {
  it('cancels before the switch: the old shards serve and no slot is left', async () => {
    const admin = await consoleClient();
    await admin.query('RESHARD app TO two');
    await admin.query('RESHARD app CANCEL');
    const row = await finished(admin);
    expect(row.status).toBe('cancelled');
    expect(await slotsLeft()).toBe(0);
    const c = await connect(appConfig());
    opened.push(c);
    const { rows } = await c.query('SELECT count(*)::int AS n FROM items');
    expect(rows[0].n).toBe(initialItems);
  }, 60_000);

  it('moves 3 shards to 2 under 8 clients: nothing lost, duplicated or failed', async () => {
    const admin = await consoleClient();
    let stop = false;
    const load = runLoad(appConfig(), 8, 20_000, () => stop);
    await sleep(300);
    const started = Date.now();
    await admin.query('RESHARD app TO two');
    const row = await finished(admin);
    const switchedAt = Date.now();
    await sleep(500);
    stop = true;
    const result = await load;
    expect(row.error).toBeNull();
    expect(row.status).toBe('switched');
    expect(row.verification).toBe('4/4 tables equal');
    console.log(
      `reshard 3 -> 2 under 8 clients: ${switchedAt - started} ms in all, statements held ${row.paused_ms} ms (${row.pause_detail_ms}), ` +
        `${result.statements} statements, longest ${result.longestMs} ms ` +
        `(${result.longestAt >= started && result.longestAt <= switchedAt ? 'during' : 'outside'} the reshard); ` +
        `live verification ${row.live_verification}; tail ${row.tail_keys} keys in ${row.tail_ms} ms`,
    );
    expect(Number(row.tail_keys)).toBeGreaterThan(0);
    expect(result.failures).toEqual([]);
    // The reverse stream keeps its slots until FINISH.
    expect(await slotsLeft()).toBe(2);
    await admin.query('RESHARD app FINISH');
    expect(await slotsLeft()).toBe(0);
    await checkNewShards(fresh, result.expected);
    // Statements after the switch run on the new shards only.
    const c = await connect(appConfig());
    opened.push(c);
    const { rows } = await c.query('SELECT count(*)::int AS n FROM items');
    expect(rows[0].n).toBe(initialItems + result.expected.size);
    // A read only the coordinator answers sees the new shards too: its mirror is rebuilt after the switch.
    const distinct = await c.query('SELECT count(DISTINCT v)::int AS n FROM items');
    expect(distinct.rows[0].n).toBe(await distinctValues(fresh));
  }, 120_000);

  it('switches two proxy instances together', async () => {
    const [old2, fresh2] = [
      ['ri_old_0', 'ri_old_1', 'ri_old_2'],
      ['ri_new_0', 'ri_new_1'],
    ];
    await setUp(old2, fresh2);
    const ports = [await freePort(), await freePort()];
    const proxies = await Promise.all(
      ports.map((p) =>
        startProxy(parseConfig(reshardConfigYaml({ listen: p, old: old2, fresh: fresh2 })), {
          logger: silentLogger,
        }),
      ),
    );
    try {
      let stop = false;
      const loads = ports.map((p, i) => runLoad(appConfig(p), 4, 20_000, () => stop, i * 4));
      await sleep(300);
      const admin = await consoleClient(ports[0]);
      await admin.query('RESHARD app TO two');
      const row = await finished(admin);
      await sleep(500);
      stop = true;
      const results = await Promise.all(loads);
      expect(row.error).toBeNull();
      expect(row.status).toBe('switched');
      expect(Number(row.instances)).toBe(2);
      console.log(
        `reshard 3 -> 2 on two proxy instances: held ${row.paused_ms} ms (${row.pause_detail_ms}), ` +
          `longest statement ${Math.max(...results.map((r) => r.longestMs))} ms`,
      );
      expect(results.flatMap((r) => r.failures)).toEqual([]);
      await admin.query('RESHARD app FINISH');
      expect(await slotsLeft(old2[0])).toBe(0);
      await checkNewShards(fresh2, new Map(results.flatMap((r) => [...r.expected])));
    } finally {
      await Promise.all(proxies.map((p) => p.close()));
    }
  }, 120_000);

  it('abandons a cutover a transaction holds past pause_timeout: the old shards serve, CANCEL drops the slots', async () => {
    const [old3, fresh3] = [
      ['rt_old_0', 'rt_old_1', 'rt_old_2'],
      ['rt_new_0', 'rt_new_1'],
    ];
    await setUp(old3, fresh3);
    const at = await freePort();
    const held = await startProxy(
      parseConfig(reshardConfigYaml({ listen: at, old: old3, fresh: fresh3, pause: '1s' })),
      { logger: silentLogger },
    );
    try {
      const holder = await connect(appConfig(at));
      opened.push(holder);
      const admin = await consoleClient(at);
      await admin.query('RESHARD app TO two');
      // Once the slots exist (their creation waits for open transactions), a transaction that stays open.
      for (let phase = ''; !['indexes', 'stream', 'cutover'].includes(phase); await sleep(5))
        phase = String((await admin.query('SHOW RESHARD')).rows[0]?.phase);
      await holder.query('BEGIN');
      await holder.query('UPDATE items SET v = 100 WHERE id = 1');
      const row = await finished(admin);
      expect(row.status).toBe('failed');
      expect(String(row.error)).toContain('still in use');
      await holder.query('COMMIT');
      const c = await connect(appConfig(at));
      opened.push(c);
      const { rows } = await c.query('SELECT v FROM items WHERE id = 1');
      expect(rows[0].v).toBe(100);
      await admin.query('RESHARD app CANCEL');
      expect(await slotsLeft(old3[0])).toBe(0);
    } finally {
      await held.close();
    }
  }, 120_000);
});
