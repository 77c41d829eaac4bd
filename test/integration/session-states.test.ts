// Session states as data: a client of an unsharded and of a sharded database taken through idle, waiting, bound,
// a plugin's call and closed, read in SHOW CLIENTS at each point; the proxy logs no illegal transition meanwhile.
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import { startProxy, type Proxy } from '../../src/proxy.js';
import { freePort } from '../../src/sandbox/ports.js';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { testConfigYaml } from './helpers/proxy.js';
import { firstColumns, query, RawConnection } from './helpers/raw-client.js';
import { connect, sleep } from './helpers/tools.js';
import {
  createAppDatabase,
  databaseEntryYaml,
  keyOnShard,
  shardClient,
  shardedDatabasesYaml,
} from './sharding-helpers.js';

const gateModule = path.resolve('test/integration/fixtures/gate-plugin.ts');
const illegal = 'illegal session state transition';

interface Rig {
  proxy: Proxy;
  port: number;
  admin: pg.Client;
  /** Every line the proxy logged (warn and above), JSON. */
  lines: string[];
}

/** A database under test: its name in the proxy, a table on shard 0's `app`, and a key of that table. */
interface Target {
  db: string;
  table: string;
  key: number;
}

let cluster: Cluster;
const opened: { end(): unknown }[] = [];
const rigs: Rig[] = [];

/** Both databases with one server connection each: `plain` (one shard: shard 0's `app`) and `app` (sharded). */
function databasesYaml(): string {
  const s0 = cluster.shards[0].primary;
  const plain = databaseEntryYaml('plain', {
    backend: { user: 'postgres', password: cluster.password, database: 'app', connect_timeout: '5s' },
    pool: { mode: 'transaction', size: 1, acquire_timeout: '10s' },
    shards: [{ primary: `${s0.host}:${s0.port}` }],
  });
  const sharded = shardedDatabasesYaml({ cluster, poolSize: 1, sharding: { tables: { items: 'id' } } });
  return `${sharded}\n${plain}`;
}

async function startRig(withPlugin: boolean): Promise<Rig> {
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', format: 'json', write: (l) => lines.push(l) });
  const address = { port: await freePort(), adminPort: await freePort() };
  const yaml = testConfigYaml({
    ...address,
    databasesYaml: databasesYaml(),
    extraUsers: ['{ name: ops, password: ops-secret, admin: true }'],
    ...(withPlugin && { pluginsYaml: `  gate: { module: ${JSON.stringify(gateModule)} }` }),
  });
  const proxy = await startProxy(parseConfig(yaml, {}, 'session-states.yaml'), { logger });
  const port = proxy.address.port;
  const admin = await connect({
    host: '127.0.0.1',
    port,
    user: 'ops',
    password: 'ops-secret',
    database: 'polyproxy',
  });
  const rig = { proxy, port, admin, lines };
  rigs.push(rig);
  return rig;
}

const through = (rig: Rig, db: string): pg.ClientConfig => ({
  host: '127.0.0.1',
  port: rig.port,
  user: 'app',
  password: 'app-secret',
  database: db,
});

async function open(config: pg.ClientConfig): Promise<pg.Client> {
  const c = await connect(config);
  opened.push(c);
  return c;
}

async function login(rig: Rig, db: string): Promise<{ conn: RawConnection; pid: number }> {
  const { conn, pid } = await RawConnection.login(rig.port, {
    user: 'app',
    password: 'app-secret',
    database: db,
  });
  opened.push(conn);
  return { conn, pid };
}

type ClientRow = { state: string; link: string | null } | undefined;

/** The client's row in SHOW CLIENTS (undefined once it is gone). */
async function clientRow(rig: Rig, pid: number): Promise<ClientRow> {
  const rows = (await rig.admin.query('SHOW CLIENTS')).rows as { pid: string; state: string; link: string }[];
  const row = rows.find((r) => Number(r.pid) === pid);
  return row && { state: row.state, link: row.link };
}

/** Polls SHOW CLIENTS until the client's row is as `ok` says (a state change lands when the servers answer). */
async function until(rig: Rig, pid: number, what: string, ok: (row: ClientRow) => boolean): Promise<void> {
  let row: ClientRow;
  for (let i = 0; i < 500; i++) {
    row = await clientRow(rig, pid);
    if (ok(row)) return;
    await sleep(20);
  }
  throw new Error(`client ${pid} never became ${what}; SHOW CLIENTS has ${JSON.stringify(row)}`);
}

const idle = (r: ClientRow) => r?.state === 'idle' && r.link === null;
const waiting = (r: ClientRow) => r?.state === 'waiting' && r.link === null;
/** Active on a server connection: SHOW CLIENTS links it. */
const bound = (r: ClientRow) => r?.state === 'active' && r.link !== null;
/** Active in a plugin's call, outside a block: no server connection. */
const inPlugin = (r: ClientRow) => r?.state === 'active' && r.link === null;
const gone = (r: ClientRow) => r === undefined;

/** Takes the database's only server connection (for shard 0) in an open block until the returned function runs. */
async function holdConnection(other: pg.Client, t: Target): Promise<() => Promise<unknown>> {
  await other.query('BEGIN');
  await other.query(`SELECT name FROM ${t.table} WHERE id = ${t.key}`);
  return () => other.query('COMMIT');
}

/** Locks the target row from outside the proxy, so a statement updating it runs on its server until released. */
async function lockRow(t: Target): Promise<() => Promise<unknown>> {
  const holder = await open(shardClient(cluster, 0));
  await holder.query('BEGIN');
  const locked = await holder.query(`SELECT 1 FROM ${t.table} WHERE id = ${t.key} FOR UPDATE`);
  expect(locked.rowCount).toBe(1);
  return () => holder.query('COMMIT');
}

/** One client through every state, each read in SHOW CLIENTS. */
async function throughEveryState(rig: Rig, t: Target, withPlugin: boolean): Promise<void> {
  const { conn: me, pid } = await login(rig, t.db);
  const other = await open(through(rig, t.db));
  await until(rig, pid, 'idle after login', idle);

  const release = await holdConnection(other, t);
  me.write(query(`SELECT name FROM ${t.table} WHERE id = ${t.key}`));
  await until(rig, pid, 'waiting for the pool', waiting);
  await release();
  expect(firstColumns(await me.untilReady())).toEqual([`item ${t.key}`]);
  await until(rig, pid, 'idle after its read', idle);

  const unlock = await lockRow(t);
  me.write(query(`UPDATE ${t.table} SET name = name WHERE id = ${t.key}`));
  await until(rig, pid, 'bound while its statement runs', bound);
  await unlock();
  expect((await me.untilReady()).map((m) => m.type)).toContain('C');
  await until(rig, pid, 'idle after its write', idle);

  if (withPlugin) {
    me.write(query('SELECT * FROM gate.wait'));
    await until(rig, pid, 'in the plugin call', inPlugin);
    expect((await other.query('SELECT * FROM gate.open')).rows).toEqual([{ gate: 'opened 1' }]);
    expect(firstColumns(await me.untilReady())).toEqual(['passed']);
    await until(rig, pid, 'idle after the plugin call', idle);
  }

  me.end();
  await until(rig, pid, 'gone after Terminate', gone);
}

/** Clients that leave while waiting for the pool and while their statement runs; the connection is not lost. */
async function leavingMidway(rig: Rig, t: Target): Promise<void> {
  const other = await open(through(rig, t.db));
  const release = await holdConnection(other, t);
  const waiter = await login(rig, t.db);
  waiter.conn.write(query(`SELECT name FROM ${t.table} WHERE id = ${t.key}`));
  await until(rig, waiter.pid, 'waiting for the pool', waiting);
  waiter.conn.destroy();
  await until(rig, waiter.pid, 'gone while waiting', gone);
  await release();

  const unlock = await lockRow(t);
  const runner = await login(rig, t.db);
  runner.conn.write(query(`UPDATE ${t.table} SET name = name WHERE id = ${t.key}`));
  await until(rig, runner.pid, 'bound while its statement runs', bound);
  runner.conn.destroy();
  await until(rig, runner.pid, 'gone while bound', gone);
  await unlock();
  // The server connection came back to the pool (or was replaced): the database still answers.
  expect((await other.query(`SELECT name FROM ${t.table} WHERE id = ${t.key}`)).rows).toEqual([
    { name: `item ${t.key}` },
  ]);
}

const targets: Target[] = [
  { db: 'plain', table: 'plain_items', key: 1 },
  { db: 'app', table: 'items', key: 0 },
];

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  targets[1].key = keyOnShard(0, 1);
  const setup = await startRig(false);
  const sharded = await open(through(setup, 'app'));
  await sharded.query('CREATE TABLE items (id int8 PRIMARY KEY, name text)');
  const keys = [0, 1, 2].map((shard) => keyOnShard(shard, 1));
  await sharded.query(`INSERT INTO items VALUES ${keys.map((k) => `(${k}, 'item ${k}')`).join(', ')}`);
  const plain = await open(through(setup, 'plain'));
  await plain.query(
    "CREATE TABLE plain_items (id int8 PRIMARY KEY, name text); INSERT INTO plain_items VALUES (1, 'item 1')",
  );
});

afterAll(async () => {
  for (const c of opened) await Promise.resolve(c.end()).catch(() => {});
  for (const r of rigs) {
    await r.admin.end().catch(() => {});
    await r.proxy.close();
  }
  await cluster?.stop();
});

describe.each([
  { withPlugin: false, name: 'without plugins (the fast paths)' },
  { withPlugin: true, name: 'with a plugin that claims statements' },
])('session states $name', ({ withPlugin }) => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig(withPlugin);
  });

  for (const t of targets) {
    it(`takes a client of ${t.db === 'app' ? 'a sharded' : 'an unsharded'} database through every state`, async () => {
      await throughEveryState(rig, t, withPlugin);
      await leavingMidway(rig, t);
      expect(rig.lines.filter((l) => l.includes(illegal))).toEqual([]);
    });
  }
});
