// Phase (f) in a running proxy: after RESHARD moves a database from 3 shards to 2 under 8 clients, the reverse
// stream feeds the old shards, and RESHARD ... REVERT (under the same load) switches back to them with every
// acknowledged write, those made while the new shards served included, present exactly once where the old map
// puts it. Also FINISH, which leaves no slot or publication on any server, CANCEL refused after the switch, and
// FINISH and REVERT from a proxy restarted since the switch, and a REVERT heard by an instance that reconnected.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
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
  trickyTags,
} from './reshard-helpers.js';
import { runLoad } from './reshard-load.js';

const opened: pg.Client[] = [];
const proxies: Proxy[] = [];

afterAll(async () => {
  await Promise.all(opened.map((c) => c.end().catch(() => {})));
  await Promise.all(proxies.map((p) => p.close()));
});

interface Rig {
  readonly port: number;
  readonly admin: pg.Client;
  readonly app: () => pg.ClientConfig;
}

/** Old shards with the schema and rows, empty new ones, and a proxy serving the old ones. */
/** Starts a proxy instance on the old shards' config (reshard target "two": the new ones); returns its port. */
async function startInstance(old: string[], fresh: string[]): Promise<number> {
  const port = await freePort();
  proxies.push(
    await startProxy(parseConfig(reshardConfigYaml({ listen: port, old, fresh, name: 'shop' })), {
      logger: silentLogger,
    }),
  );
  return port;
}

async function rig(old: string[], fresh: string[]): Promise<Rig> {
  await createDatabases([...old, ...fresh]);
  const oldClients = await Promise.all(old.map(client));
  for (const c of oldClients) await c.query(schemaSql);
  await fill(oldClients);
  await Promise.all(oldClients.map((c) => c.end()));
  const port = await startInstance(old, fresh);
  const app = (): pg.ClientConfig => ({
    host: '127.0.0.1',
    port,
    user: 'app',
    password: 'app-secret',
    database: 'shop',
  });
  const admin = await connect({ ...app(), user: 'ops', password: 'ops-secret', database: 'polyproxy' });
  opened.push(admin);
  return { port, admin, app };
}

/** SHOW RESHARD's row for shop once `done` holds for it (bounded). */
async function reshardRow(
  admin: pg.Client,
  done: (row: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (let i = 0; i < 1500; i++) {
    const row = (await admin.query('SHOW RESHARD')).rows.find((r) => r.database === 'shop');
    if (row && done(row)) return row;
    await sleep(20);
  }
  throw new Error('the reshard did not reach the expected state');
}

/** Reshard slots on the server, and the reshard's publications and marker tables in each database. */
async function leftovers(databases: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const name of databases) {
    const c = await client(name);
    try {
      const slots = await c.query(
        "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'polyproxy_reshard_shop%' ORDER BY 1",
      );
      const pubs = await c.query(
        "SELECT pubname FROM pg_publication WHERE pubname LIKE 'polyproxy_reshard%'",
      );
      const marks = await c.query("SELECT 1 FROM pg_tables WHERE tablename = 'polyproxy_reshard_mark'");
      found.push(
        ...slots.rows.map((r) => `slot ${r.slot_name}`),
        ...pubs.rows.map((r) => `${name}: publication ${r.pubname}`),
        ...marks.rows.map(() => `${name}: polyproxy_reshard_mark`),
      );
    } finally {
      await c.end();
    }
  }
  return [...new Set(found)];
}

/**
 * Writes through the proxy while the new shards serve: inserts (single and multi-row across shards),
 * updates and deletes of initial items, and a reference row; returns what each item id should now hold.
 */
async function writeOnNewShards(config: pg.ClientConfig, ops: number): Promise<Map<number, number | null>> {
  const c = await connect(config);
  opened.push(c);
  const outcome = new Map<number, number | null>();
  for (let i = 0; i < ops; i++) {
    const id = 9_000_000 + 2 * i;
    await c.query('INSERT INTO items (id, v, note) VALUES ($1, $2, $3), ($4, $5, $3)', [
      id,
      i,
      'new',
      id + 1,
      -i - 1,
    ]);
    outcome.set(id, i).set(id + 1, -i - 1);
    const initial = 1 + ((i * 7919) % initialItems);
    if (i % 5 === 0) {
      await c.query('DELETE FROM items WHERE id = $1', [initial]);
      outcome.set(initial, null);
    } else if (i % 3 === 0) {
      await c.query('UPDATE items SET v = $2 WHERE id = $1', [initial, 100_000 + i]);
      outcome.set(initial, 100_000 + i);
    }
  }
  await c.query('BEGIN');
  await c.query("INSERT INTO countries VALUES ('it', 'Italy')");
  await c.query('UPDATE items SET v = 7 WHERE id = ANY($1)', [[9_000_000, 9_000_003]]);
  await c.query('COMMIT');
  outcome.set(9_000_000, 7).set(9_000_003, 7);
  return outcome;
}

/** Whole tables on the old shards against what was acknowledged: every item once, on its old shard. */
async function checkOldShards(
  old: string[],
  expected: Map<number, number>,
  countries = ['de', 'fr', 'it', 'jp'],
): Promise<void> {
  const seen = new Map<number, number>();
  for (const [shard, name] of old.entries()) {
    const c = await client(name);
    try {
      const { rows } = await c.query<{ id: string; v: number }>('SELECT id, v FROM items');
      for (const r of rows) {
        const id = Number(r.id);
        expect(seen.has(id), `item ${id} twice`).toBe(false);
        expect(hashShard('int', BigInt(id), old.length), `item ${id} shard`).toBe(shard);
        seen.set(id, r.v);
      }
      const codes = await c.query('SELECT code FROM countries ORDER BY code');
      expect(codes.rows.map((r) => r.code)).toEqual(countries);
      const tags = await c.query<{ tag: string }>('SELECT tag FROM notes');
      for (const { tag } of tags.rows) expect(hashShard('text', tag, old.length), `tag ${tag}`).toBe(shard);
    } finally {
      await c.end();
    }
  }
  expect(seen.size).toBe(expected.size);
  for (const [id, v] of expected) expect(seen.get(id), `item ${id}`).toBe(v);
}

/** Inserts row 9999999 with `v` through the proxy and reads it back from the old shard its key hashes to. */
async function writtenOnOldShard(c: pg.Client, old: string[], v: number): Promise<unknown[]> {
  await c.query('INSERT INTO items (id, v) VALUES (9999999, $1)', [v]);
  const direct = await client(old[hashShard('int', 9_999_999n, 3)]!);
  try {
    return (await direct.query('SELECT v FROM items WHERE id = 9999999')).rows;
  } finally {
    await direct.end();
  }
}

/**
 * A proxy started on the config naming `shards` (the ones the rows left: the old ones after the switch, the new
 * ones after a REVERT) refuses the database with 57P03 and a message containing `why`.
 */
async function expectStaleConfigRefused(shards: string[], app: pg.ClientConfig, why: string): Promise<void> {
  const port = await freePort();
  const stale = await startProxy(
    parseConfig(reshardConfigYaml({ listen: port, old: shards, fresh: shards, name: 'shop' })),
    { logger: silentLogger },
  );
  try {
    const c = await connect({ ...app, port });
    opened.push(c);
    await expect(c.query('SELECT count(*) FROM items')).rejects.toMatchObject({
      code: '57P03',
      message: expect.stringContaining(why),
    });
  } finally {
    await stale.close();
  }
}

describe('reshard reverse stream, REVERT and FINISH', () => {
  it('reverts 3 -> 2 -> 3 under 8 clients: every acknowledged write on the old shards once, none failed', async () => {
    const old = ['rv_old_0', 'rv_old_1', 'rv_old_2'];
    const fresh = ['rv_new_0', 'rv_new_1'];
    const { admin, app } = await rig(old, fresh);
    let stop = false;
    const load = runLoad(app(), 8, 20_000, () => stop);
    await sleep(300);
    const started = Date.now();
    await admin.query('RESHARD shop TO two');
    const switched = await reshardRow(admin, (r) => r.status !== 'running');
    const switchedAt = Date.now();
    expect(switched.error).toBeNull();
    expect([switched.status, switched.phase]).toEqual(['switched', 'reverse']);
    const between = await writeOnNewShards(app(), 150);
    // The reverse stream has applied some of the new shards' writes to the old ones before the revert.
    const streaming = await reshardRow(admin, (r) => Number(r.rows_streamed) > 0);
    const revertStarted = Date.now();
    await admin.query('RESHARD shop REVERT');
    const revertedAt = Date.now();
    await sleep(500);
    stop = true;
    const result = await load;
    const row = await reshardRow(admin, () => true);
    console.log(
      `reshard 3 -> 2 under 8 clients: ${switchedAt - started} ms, held ${switched.paused_ms} ms (${switched.pause_detail_ms}); ` +
        `reverse stream ${streaming.rows_streamed} rows before REVERT; REVERT ${revertedAt - revertStarted} ms, ` +
        `held ${row.paused_ms} ms (${row.pause_detail_ms}); ${result.statements} statements, longest ${result.longestMs} ms`,
    );
    expect([row.status, row.phase, row.error]).toEqual(['reverted', 'reverted', null]);
    expect(result.failures).toEqual([]);
    expect(await leftovers([...old, ...fresh])).toEqual([]);
    const expected = new Map<number, number>();
    for (let id = 1; id <= initialItems; id++) expected.set(id, id % 7);
    for (const [id, v] of between) {
      if (v === null) expected.delete(id);
      else expected.set(id, v);
    }
    for (const [id, v] of result.expected) expected.set(id, v);
    await checkOldShards(old, expected);
    // Statements after the revert run on the old shards: a write there is not on the new ones.
    const c = await connect(app());
    opened.push(c);
    expect(await writtenOnOldShard(c, old, 1)).toEqual([{ v: 1 }]);
    const notes = await c.query('SELECT count(*)::int AS n FROM notes');
    expect(notes.rows[0].n).toBe(trickyTags.length);
    await expectStaleConfigRefused(fresh, app(), 'then reverted');
  }, 300_000);

  it('reverts two proxy instances together: both serve the old shards again, nothing lost or failed', async () => {
    const old = ['rp_old_0', 'rp_old_1', 'rp_old_2'];
    const fresh = ['rp_new_0', 'rp_new_1'];
    const { admin, app } = await rig(old, fresh);
    const port2 = await startInstance(old, fresh);
    let stop = false;
    const loads = [
      runLoad(app(), 4, 20_000, () => stop),
      runLoad({ ...app(), port: port2 }, 4, 20_000, () => stop, 4),
    ];
    await sleep(300);
    await admin.query('RESHARD shop TO two');
    const switched = await reshardRow(admin, (r) => r.status !== 'running');
    expect([switched.status, Number(switched.instances)]).toEqual(['switched', 2]);
    await reshardRow(admin, (r) => Number(r.rows_streamed) > 0);
    await admin.query('RESHARD shop REVERT');
    const row = await reshardRow(admin, () => true);
    await sleep(500);
    stop = true;
    const results = await Promise.all(loads);
    console.log(
      `REVERT on two proxy instances: held ${row.paused_ms} ms (${row.pause_detail_ms}), ` +
        `longest statement ${Math.max(...results.map((r) => r.longestMs))} ms`,
    );
    expect([row.status, Number(row.instances), row.error]).toEqual(['reverted', 2, null]);
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(await leftovers([...old, ...fresh])).toEqual([]);
    const expected = new Map<number, number>();
    for (let id = 1; id <= initialItems; id++) expected.set(id, id % 7);
    for (const r of results) for (const [id, v] of r.expected) expected.set(id, v);
    await checkOldShards(old, expected, ['de', 'fr', 'jp']);
    // The second instance writes to the old shards too.
    const c = await connect({ ...app(), port: port2 });
    opened.push(c);
    expect(await writtenOnOldShard(c, old, 2)).toEqual([{ v: 2 }]);
  }, 300_000);

  it('FINISH keeps the new shards and leaves no slot, publication or marker on any server; CANCEL is refused', async () => {
    const old = ['rf_old_0', 'rf_old_1', 'rf_old_2'];
    const fresh = ['rf_new_0', 'rf_new_1'];
    const { admin, app } = await rig(old, fresh);
    await admin.query('RESHARD shop TO two');
    await expect(admin.query('RESHARD shop REVERT')).rejects.toThrow(/has not switched yet/);
    const switched = await reshardRow(admin, (r) => r.status !== 'running');
    expect([switched.status, switched.phase]).toEqual(['switched', 'reverse']);
    expect(await leftovers([...old, ...fresh])).toEqual([
      'slot polyproxy_reshard_shop_r0',
      'slot polyproxy_reshard_shop_r1',
      'rf_new_0: publication polyproxy_reshard_shop_r0',
      'rf_new_0: polyproxy_reshard_mark',
      'rf_new_1: publication polyproxy_reshard_shop_r1',
      'rf_new_1: polyproxy_reshard_mark',
    ]);
    await expect(admin.query('RESHARD shop CANCEL')).rejects.toThrow(/REVERT .* FINISH/);
    await expect(admin.query('RESHARD shop TO two')).rejects.toThrow(/FINISH or REVERT first/);
    await admin.query('RESHARD shop FINISH');
    const row = await reshardRow(admin, () => true);
    expect([row.status, row.phase]).toEqual(['finished', 'finished']);
    expect(await leftovers([...old, ...fresh])).toEqual([]);
    await expect(admin.query('RESHARD shop REVERT')).rejects.toThrow(/no switched reshard/);
    // The new shards serve; the old ones no longer follow them.
    const c = await connect(app());
    opened.push(c);
    await c.query('INSERT INTO items (id, v) VALUES (9999999, 1)');
    const { rows } = await c.query('SELECT count(*)::int AS n FROM items');
    expect(rows[0].n).toBe(initialItems + 1);
    const direct = await client(old[hashShard('int', 9_999_999n, 3)]!);
    const onOld = await direct.query('SELECT v FROM items WHERE id = 9999999');
    await direct.end();
    expect(onOld.rowCount).toBe(0);
  }, 120_000);

  it('FINISH in a proxy restarted since the switch (its config naming the new shards) drops the reverse slots left', async () => {
    const old = ['rr_old_0', 'rr_old_1', 'rr_old_2'];
    const fresh = ['rr_new_0', 'rr_new_1'];
    const first = await rig(old, fresh);
    await first.admin.query('RESHARD shop TO two');
    const switched = await reshardRow(first.admin, (r) => r.status !== 'running');
    expect([switched.status, switched.phase]).toEqual(['switched', 'reverse']);
    await proxies.pop()!.close();
    expect((await leftovers([...old, ...fresh])).filter((l) => l.startsWith('slot'))).toEqual([
      'slot polyproxy_reshard_shop_r0',
      'slot polyproxy_reshard_shop_r1',
    ]);
    // A proxy started on the old shards' config refuses the database: the rows live on the new shards now.
    await expectStaleConfigRefused(old, first.app(), 'was resharded');
    const port = await freePort();
    proxies.push(
      await startProxy(
        parseConfig(reshardConfigYaml({ listen: port, old: fresh, fresh: fresh, name: 'shop' })),
        { logger: silentLogger },
      ),
    );
    const admin = await connect({
      ...first.app(),
      port,
      user: 'ops',
      password: 'ops-secret',
      database: 'polyproxy',
    });
    opened.push(admin);
    await admin.query('RESHARD shop FINISH');
    expect(await leftovers([...old, ...fresh])).toEqual([]);
    const c = await connect({ ...first.app(), port });
    opened.push(c);
    const { rows } = await c.query('SELECT count(*)::int AS n FROM items');
    expect(rows[0].n).toBe(initialItems);
  }, 120_000);

  it('REVERT in a proxy restarted since the switch (its config naming the new shards) goes back without loss', async () => {
    const old = ['ra_old_0', 'ra_old_1', 'ra_old_2'];
    const fresh = ['ra_new_0', 'ra_new_1'];
    const first = await rig(old, fresh);
    await first.admin.query('RESHARD shop TO two');
    const switched = await reshardRow(first.admin, (r) => r.status !== 'running');
    expect([switched.status, switched.phase]).toEqual(['switched', 'reverse']);
    const between = await writeOnNewShards(first.app(), 40);
    await proxies.pop()!.close();
    const port = await freePort();
    proxies.push(
      await startProxy(parseConfig(reshardConfigYaml({ listen: port, old: fresh, fresh, name: 'shop' })), {
        logger: silentLogger,
      }),
    );
    const app = { ...first.app(), port };
    // Written while no proxy fed the old shards: the resumed reverse stream brings these back too.
    const c = await connect(app);
    opened.push(c);
    for (let id = 8_000_000; id < 8_000_020; id++)
      await c.query('INSERT INTO items (id, v) VALUES ($1, $2)', [id, id % 11]);
    await c.query('DELETE FROM items WHERE id = 9000002');
    const admin = await connect({ ...app, user: 'ops', password: 'ops-secret', database: 'polyproxy' });
    opened.push(admin);
    await admin.query('RESHARD shop REVERT');
    expect(await leftovers([...old, ...fresh])).toEqual([]);
    const expected = new Map<number, number>();
    for (let id = 1; id <= initialItems; id++) expected.set(id, id % 7);
    for (const [id, v] of between) {
      if (v === null) expected.delete(id);
      else expected.set(id, v);
    }
    for (let id = 8_000_000; id < 8_000_020; id++) expected.set(id, id % 11);
    expected.delete(9_000_002);
    await checkOldShards(old, expected);
    // The restarted proxy now serves the old shards.
    expect(await writtenOnOldShard(c, old, 3)).toEqual([{ v: 3 }]);
    // A second REVERT finds nothing to revert.
    await expect(admin.query('RESHARD shop REVERT')).rejects.toThrow(/no switched reshard/);
    await expectStaleConfigRefused(fresh, app, 'then reverted');
  }, 180_000);

  it('an instance whose LISTEN connection dropped after the switch still hears the REVERT', async () => {
    const old = ['rl_old_0', 'rl_old_1', 'rl_old_2'];
    const fresh = ['rl_new_0', 'rl_new_1'];
    const { admin, app } = await rig(old, fresh);
    const port2 = await startInstance(old, fresh);
    await admin.query('RESHARD shop TO two');
    const switched = await reshardRow(admin, (r) => r.status !== 'running');
    expect([switched.status, Number(switched.instances)]).toEqual(['switched', 2]);
    // Both instances' heartbeat connections on the old first primary drop; they reconnect within a beat.
    const first = await client(old[0]!);
    const dropped = await first.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = $1 AND application_name = 'polyproxy reshard' AND query LIKE '%polyproxy_reshard_instances%'`,
      [old[0]],
    );
    await first.end();
    expect(dropped.rowCount).toBe(2);
    await sleep(4000);
    await admin.query('RESHARD shop REVERT');
    const row = await reshardRow(admin, () => true);
    expect([row.status, Number(row.instances), row.error]).toEqual(['reverted', 2, null]);
    // The second instance switched back too: its write lands on the old shard.
    const c = await connect({ ...app(), port: port2 });
    opened.push(c);
    expect(await writtenOnOldShard(c, old, 4)).toEqual([{ v: 4 }]);
  }, 180_000);
});
