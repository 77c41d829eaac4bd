// The proxy (the built CLI in its own process) SIGKILLed while RESHARD 3 -> 2 runs in it: during the snapshot
// copy, during the forward stream, and while the cutover holds statements. Restarted on its old config, it serves
// the old shards with every acknowledged write, RESHARD ... CANCEL works without the job that died, and no
// replication slot or publication is left on any old or new shard.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/sandbox/ports.js';
import { waitUntilListening, type Managed } from '../../src/sandbox/process.js';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import { spawnProxy } from './helpers/proxy-process.js';
import { connect, sleep } from './helpers/tools.js';
import {
  client,
  createDatabases,
  fill,
  oldShardOf,
  reshardConfigYaml,
  schemaSql,
} from './reshard-helpers.js';

const old = ['rk_old_0', 'rk_old_1', 'rk_old_2'];
const fresh = ['rk_new_0', 'rk_new_1'];
/** Extra rows of 200 bytes, so that the snapshot copy lasts long enough to be killed in. */
const bulkRows = 300_000;
const bulkFrom = 1_000_000;
/** Ids the write loop inserts through the proxy. */
const newFrom = 10_000_000;

let proxy: Managed | null = null;
/** The lock of holdMarker, released once the proxy is dead. */
let held: pg.Client | null = null;
const opened: pg.Client[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.end().catch(() => {})));
  await proxy?.stop();
  proxy = null;
});

async function setUp(): Promise<void> {
  await createDatabases([...old, ...fresh]);
  const oldClients = await Promise.all(old.map(client));
  try {
    for (const c of oldClients) await c.query(schemaSql);
    await fill(oldClients);
    const ids = Array.from({ length: bulkRows }, (_, i) => bulkFrom + i);
    for (const [shard, c] of oldClients.entries()) {
      const mine = ids.filter((id) => oldShardOf(id, old.length) === shard);
      await c.query("INSERT INTO items SELECT id, id % 7, repeat('x', 200) FROM unnest($1::bigint[]) id", [
        mine,
      ]);
    }
  } finally {
    await Promise.all(oldClients.map((c) => c.end()));
  }
}

async function start(configPath: string, port: number): Promise<void> {
  proxy = spawnProxy(configPath);
  await waitUntilListening(proxy, 'polyproxy', port);
}

/** SIGKILL to the proxy's process group, as a crash ends it. */
async function kill(): Promise<void> {
  const dying = proxy!;
  proxy = null;
  process.kill(-dying.pid, 'SIGKILL');
  for (let i = 0; i < 500 && dying.exited() === null; i++) await sleep(10);
  expect(dying.exited()).toBe('SIGKILL');
}

async function open(port: number, console = false): Promise<pg.Client> {
  const c = await connect({
    host: '127.0.0.1',
    port,
    user: console ? 'ops' : 'app',
    password: console ? 'ops-secret' : 'app-secret',
    database: console ? 'polyproxy' : 'app',
  });
  // A client whose proxy is killed reports the lost connection here rather than as an uncaught error.
  c.on('error', () => {});
  opened.push(c);
  return c;
}

/** Waits (bounded) until SHOW RESHARD's row for app satisfies `ready`; fails on a reshard that stopped running. */
async function reshardRow(
  admin: pg.Client,
  ready: (row: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (let i = 0; i < 3000; i++) {
    const row = (await admin.query('SHOW RESHARD')).rows.find((r) => r.database === 'app');
    if (row && row.status !== 'running') throw new Error(`the reshard ended: ${JSON.stringify(row)}`);
    if (row && ready(row)) return row;
    await sleep(20);
  }
  throw new Error('the reshard did not reach the phase in time');
}

/**
 * Writes through the proxy until stopped (bounded), remembering each acknowledged value: inserts of new ids and
 * updates of the items 1..100. The write in flight when the proxy dies may or may not have committed.
 */
class ProxyLedger {
  readonly expected = new Map<number, number>();
  uncertain: { id: number; before: number | undefined; after: number } | null = null;
  acknowledged = 0;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(private readonly c: pg.Client) {
    for (let id = 1; id <= 100; id++) this.expected.set(id, id % 7);
    this.done = this.run();
  }

  private async run(): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (let i = 0; i < 100_000 && !this.stopped && Date.now() < deadline; i++) {
      const insert = i % 2 === 0;
      const id = insert ? newFrom + i : 1 + (i % 100);
      const value = insert ? i : -i;
      this.uncertain = { id, before: this.expected.get(id), after: value };
      try {
        if (insert) await this.c.query('INSERT INTO items (id, v) VALUES ($1, $2)', [id, value]);
        else await this.c.query('UPDATE items SET v = $2 WHERE id = $1', [id, value]);
      } catch {
        return;
      }
      this.uncertain = null;
      this.expected.set(id, value);
      this.acknowledged++;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** What the restarted proxy reads is what was acknowledged (the write in flight at the kill either way). */
async function checkLedger(c: pg.Client, ledger: ProxyLedger): Promise<void> {
  const { rows } = await c.query<{ id: string; v: number }>(
    'SELECT id, v FROM items WHERE id <= 100 OR id >= $1',
    [newFrom],
  );
  const seen = new Map(rows.map((r) => [Number(r.id), r.v]));
  const expected = new Map(ledger.expected);
  const open = ledger.uncertain;
  if (open) {
    const value = seen.get(open.id);
    expect([open.before, open.after]).toContain(value);
    if (value === undefined) expected.delete(open.id);
    else expected.set(open.id, value);
  }
  expect(seen).toEqual(expected);
}

/** The old shards' item counts, read on each directly; and that every item lies where the old map puts it. */
async function oldItems(): Promise<number> {
  let total = 0;
  for (const [shard, name] of old.entries()) {
    const c = await client(name);
    try {
      const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM items');
      total += rows[0]!.n;
      const sample = await c.query<{ id: string }>('SELECT id FROM items WHERE id <= 100 OR id >= $1', [
        newFrom,
      ]);
      for (const r of sample.rows) expect(oldShardOf(Number(r.id), old.length)).toBe(shard);
    } finally {
      await c.end();
    }
  }
  return total;
}

/** Replication slots on the server and publications in each old and new database. */
async function leftovers(): Promise<string[]> {
  const left: string[] = [];
  for (const name of [...old, ...fresh]) {
    const c = await client(name);
    try {
      if (name === old[0]) {
        const slots = await c.query<{ slot_name: string }>(
          "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'polyproxy_reshard_app%'",
        );
        left.push(...slots.rows.map((r) => `slot ${r.slot_name}`));
      }
      const pubs = await c.query<{ pubname: string }>('SELECT pubname FROM pg_publication');
      left.push(...pubs.rows.map((r) => `publication ${r.pubname} in ${name}`));
    } finally {
      await c.end();
    }
  }
  return left;
}

/** Starts a proxy, reshards, lets `killAt` pick the moment, kills, restarts and checks what must hold. */
async function killDuring(
  killAt: (admin: pg.Client, port: number) => Promise<void>,
  then: (app: pg.Client, admin: pg.Client, ledger: ProxyLedger) => Promise<void> = cancel,
): Promise<void> {
  await setUp();
  const port = await freePort();
  const configPath = join(await mkdtemp(join(tmpdir(), 'polyproxy-reshard-kill-')), 'polyproxy.yaml');
  await writeFile(
    configPath,
    reshardConfigYaml({ listen: port, old, fresh, pool: 4, pause: '60s', heartbeat: '2s' }),
  );
  await start(configPath, port);
  const admin = await open(port, true);
  const ledger = new ProxyLedger(await open(port));
  await admin.query('RESHARD app TO two');
  await killAt(admin, port);
  await kill();
  await held?.query('ROLLBACK');
  held = null;
  await ledger.stop();
  expect(ledger.acknowledged).toBeGreaterThan(0);

  await start(configPath, port);
  const app = await open(port);
  await checkLedger(app, ledger);
  await app.query('INSERT INTO items (id, v) VALUES ($1, 42)', [newFrom - 1]);
  expect((await app.query('SELECT v FROM items WHERE id = $1', [newFrom - 1])).rows).toEqual([{ v: 42 }]);
  const { rows } = await app.query<{ n: number }>('SELECT count(*)::int AS n FROM items');
  expect(rows[0]!.n).toBe(await oldItems());

  await then(app, await open(port, true), ledger);
}

/** RESHARD ... CANCEL from the restarted proxy, which has no job for it: nothing is left, the old shards serve. */
async function cancel(app: pg.Client, admin: pg.Client): Promise<void> {
  await admin.query('RESHARD app CANCEL');
  expect(await leftovers()).toEqual([]);
  await app.query('UPDATE items SET v = 7 WHERE id = $1', [newFrom - 1]);
  expect((await app.query('SELECT v FROM items WHERE id = $1', [newFrom - 1])).rows).toEqual([{ v: 7 }]);
}

/**
 * RESHARD ... TO again from the restarted proxy: it resumes from the slots the killed one streamed from, switches,
 * and the acknowledged writes are on the new shards where the new map puts them; FINISH leaves nothing behind.
 */
async function resume(app: pg.Client, admin: pg.Client, ledger: ProxyLedger): Promise<void> {
  // The killed instance's last heartbeat must be older than heartbeat_timeout (2 s), or the cutover waits for it.
  await sleep(2500);
  await admin.query('RESHARD app TO two');
  let row: Record<string, unknown> | undefined;
  for (let i = 0; i < 3000 && (!row || row.status === 'running'); i++) {
    await sleep(20);
    row = (await admin.query('SHOW RESHARD')).rows.find((r) => r.database === 'app');
  }
  expect(row).toMatchObject({ status: 'switched', verification: '4/4 tables equal' });
  await checkLedger(app, ledger);
  for (const [shard, name] of fresh.entries()) {
    const c = await client(name);
    const { rows } = await c.query<{ id: string }>('SELECT id FROM items WHERE id <= 100 OR id >= $1', [
      newFrom - 1,
    ]);
    await c.end();
    for (const r of rows) expect(hashShard('int', BigInt(r.id), fresh.length)).toBe(shard);
  }
  await admin.query('RESHARD app FINISH');
  expect(await leftovers()).toEqual([]);
}

/**
 * Holds the cutover before its pause: the catch-up marker it writes on the first old primary waits for this lock,
 * while the forward stream keeps applying. Taken once the copy made the marker table.
 */
async function holdMarker(admin: pg.Client): Promise<pg.Client> {
  await reshardRow(admin, (row) => row.phase === 'copy');
  const c = await client(old[0]!);
  opened.push(c);
  await c.query('BEGIN');
  await c.query('LOCK TABLE polyproxy_reshard_mark IN EXCLUSIVE MODE');
  return (held = c);
}

/** The reverse stream's publications on both new shards: made right before the cutover's catch-up. */
async function reversePublications(): Promise<number> {
  let n = 0;
  for (const name of fresh) {
    const c = await client(name);
    const { rows } = await c.query(
      "SELECT 1 FROM pg_publication WHERE pubname LIKE 'polyproxy_reshard_app_r%'",
    );
    await c.end();
    n += rows.length;
  }
  return n;
}

describe('the proxy killed during a reshard', () => {
  it('during the snapshot copy', async () => {
    await killDuring(async (admin) => {
      await reshardRow(admin, (row) => row.phase === 'copy' && Number(row.rows_copied) > 0);
    });
  }, 300_000);

  it('during the forward stream', async () => {
    await killDuring(async (admin) => {
      await holdMarker(admin);
      // The stream runs and applies the ledger's writes; the cutover waits for its first catch-up marker.
      await reshardRow(admin, (row) => row.phase === 'cutover' && Number(row.rows_streamed) > 0);
    });
  }, 300_000);

  it('during the forward stream, then resumed from the restarted proxy', async () => {
    await killDuring(async (admin) => {
      await holdMarker(admin);
      await reshardRow(admin, (row) => row.phase === 'cutover' && Number(row.rows_streamed) > 0);
    }, resume);
  }, 300_000);

  it('while the cutover holds statements', async () => {
    await killDuring(async (admin, port) => {
      const lock = await holdMarker(admin);
      await reshardRow(admin, (row) => row.phase === 'cutover');
      for (let i = 0; i < 500 && (await reversePublications()) < fresh.length; i++) await sleep(20);
      // A transaction in flight: the pause drains it, and it stays open, so statements stay held (pause_timeout
      // is 60 s) until the kill.
      const inFlight = await open(port);
      await inFlight.query('BEGIN');
      await inFlight.query('UPDATE items SET v = v WHERE id = 200');
      await lock.query('COMMIT');
      const marked = async () =>
        (await lock.query("SELECT 1 FROM polyproxy_reshard_mark WHERE database = 'app'")).rowCount ?? 0;
      for (let i = 0; i < 500 && (await marked()) === 0; i++) await sleep(20);
      expect(await marked()).toBe(1);
      // Both sides are compared while clients write, then the gate closes and the drain waits: a statement that
      // gets no answer within 300 ms is held.
      const probe = await open(port);
      for (let i = 0; i < 400; i++) {
        const answered = probe.query('SELECT 1').then(
          () => true,
          () => true,
        );
        if (!(await Promise.race([answered, sleep(300).then(() => false)]))) break;
      }
    });
  }, 300_000);
});
