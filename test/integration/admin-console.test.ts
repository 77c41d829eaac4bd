// The admin console over a real proxy and PostgreSQL: SHOW commands, PAUSE/RESUME, RELOAD, errors, psql.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { silentLogger } from '../../src/logger.js';
import { startProxy, type Proxy } from '../../src/proxy.js';
import { freePort } from '../../src/sandbox/ports.js';
import { startTestProxy, testConfigYaml } from './helpers/proxy.js';
import { connect, psql, rejection, sleep, withClient } from './helpers/tools.js';

const adminUser = '{ name: ops, password: ops-secret, admin: true }';
let proxy: Proxy;
let configPath: string;
let port: number;
let adminPort: number;

const as = (user: string, password: string, database = 'polyproxy'): pg.ClientConfig => ({
  host: '127.0.0.1',
  port,
  user,
  password,
  database,
});
const ops = () => as('ops', 'ops-secret');
const app = (name = 'admin-test') => ({ ...as('app', 'app-secret', 'app'), application_name: name });

async function show(c: pg.Client, command: string): Promise<Record<string, unknown>[]> {
  return (await c.query(command)).rows as Record<string, unknown>[];
}

/** Polls a console query until `ok` holds (state changes land asynchronously). */
async function until(c: pg.Client, command: string, ok: (rows: Record<string, unknown>[]) => boolean) {
  for (let i = 0; i < 500; i++) {
    const rows = await show(c, command);
    if (ok(rows)) return rows;
    await sleep(20);
  }
  throw new Error(`${command} never reached the expected state`);
}

beforeAll(async () => {
  port = await freePort();
  adminPort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'polyproxy-admin-'));
  configPath = join(dir, 'polyproxy.yaml');
  await writeFile(configPath, testConfigYaml({ port, adminPort, extraUsers: [adminUser] }));
  proxy = await startProxy(loadConfigFile(configPath), { configPath, logger: silentLogger });
});

afterAll(async () => {
  await proxy?.close();
});

describe('admin console', () => {
  it('refuses a user without admin: true with 42501', async () => {
    const err = await rejection(withClient(as('app', 'app-secret'), (c) => c.query('SHOW POOLS')));
    expect(err.code).toBe('42501');
    expect(err.message).toContain('may not use the admin console');
  });

  it('still checks the password of an admin user', async () => {
    const err = await rejection(withClient(as('ops', 'wrong'), (c) => c.query('SHOW POOLS')));
    expect(err.code).toBe('28P01');
  });

  it('lists its commands with SHOW HELP', async () => {
    const rows = await withClient(ops(), (c) => show(c, 'show help;'));
    expect(rows.map((r) => r.command)).toEqual([
      'SHOW HELP',
      'SHOW POOLS',
      'SHOW CLIENTS',
      'SHOW SERVERS',
      'SHOW STATS',
      'SHOW STREAMS',
      'SHOW RESHARD',
      'SHOW DATABASES',
      'SHOW CONFIG',
      'RELOAD',
      'PAUSE [db]',
      'RESUME [db]',
      'RESHARD <db> TO <target> | <db> CANCEL | <db> REVERT | <db> FINISH',
    ]);
  });

  it('shows a client in a transaction in POOLS, CLIENTS, SERVERS and STATS', async () => {
    const client = await connect(app('busy-client'));
    const admin = await connect(ops());
    try {
      await client.query('BEGIN');
      const backendPid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      const pools = await show(admin, 'SHOW POOLS');
      const appPool = pools.find((r) => r.database === 'app')!;
      expect(appPool).toMatchObject({
        user: 'postgres',
        role: 'primary',
        pool_mode: 'transaction',
        paused: '0',
      });
      expect(appPool.cl_active).toBe('1');
      expect(appPool.sv_active).toBe('1');
      expect(pools.find((r) => r.database === 'sess')!.pool_mode).toBe('session');

      const clients = await show(admin, 'SHOW CLIENTS');
      const mine = clients.find((r) => r.application_name === 'busy-client')!;
      expect(mine).toMatchObject({
        type: 'C',
        user: 'app',
        database: 'app',
        state: 'active',
        addr: '127.0.0.1',
      });
      expect(Number(mine.remote_pid)).toBe(backendPid);

      const servers = await show(admin, 'SHOW SERVERS');
      const linked = servers.find((r) => Number(r.remote_pid) === backendPid)!;
      expect(linked).toMatchObject({ type: 'S', database: 'app', state: 'active', role: 'primary' });
      expect(linked.link).toBe(mine.pid);
      await client.query('COMMIT');

      const stats = await show(admin, 'SHOW STATS');
      expect(Number(stats.find((r) => r.database === 'app')!.total_xact_count)).toBeGreaterThan(0);
      const dbs = await show(admin, 'SHOW DATABASES');
      expect(dbs.find((r) => r.name === 'app')).toMatchObject({
        database: 'app',
        pool_size: '2',
        paused: '0',
        ryw_scopes: '0',
      });
    } finally {
      await client.end();
      await admin.end();
    }
  });

  it('shows the effective config with every password redacted', async () => {
    const rows = await withClient(ops(), (c) => show(c, 'SHOW CONFIG'));
    const byKey = new Map(rows.map((r) => [r.key, r]));
    expect(byKey.get('databases.app.pool.size')).toMatchObject({
      value: '2',
      default: '10',
      changeable: 'yes',
    });
    expect(byKey.get('listen')).toMatchObject({ value: `127.0.0.1:${port}`, changeable: 'no' });
    expect(byKey.get('users[0].password')!.value).toBe('[redacted]');
    expect(byKey.get('databases.app.backend.password')!.value).toBe('[redacted]');
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain('app-secret');
    expect(dump).not.toContain('ops-secret');
  });

  it('answers unknown commands and extra arguments with 42601 and a hint', async () => {
    const admin = await connect(ops());
    try {
      const unknown = await rejection(admin.query('SELECT 1'));
      expect(unknown.code).toBe('42601');
      expect(unknown.hint).toContain('SHOW POOLS');
      const extra = await rejection(admin.query('SHOW POOLS now'));
      expect(extra.code).toBe('42601');
      const missing = await rejection(admin.query('PAUSE nosuchdb'));
      expect(missing.code).toBe('3D000');
      expect((await admin.query('SHOW DATABASES')).rows.length).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
  });

  it('refuses the extended protocol with 0A000 and stays usable', async () => {
    const admin = await connect(ops());
    try {
      const err = await rejection(admin.query({ text: 'SHOW POOLS', name: 'pools' }));
      expect(err.code).toBe('0A000');
      expect((await admin.query('SHOW HELP')).rows).toHaveLength(13);
    } finally {
      await admin.end();
    }
  });

  it('PAUSE waits for the running transaction, holds new ones until RESUME', async () => {
    const holder = await connect(app());
    const waiter = await connect(app());
    const admin = await connect(ops());
    const watcher = await connect(ops());
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1');
      let paused = false;
      const pausing = admin.query('PAUSE app').then(() => (paused = true));
      await until(watcher, 'SHOW POOLS', (rows) =>
        rows.some((r) => r.database === 'app' && r.paused === '1'),
      );
      expect(paused).toBe(false);
      await holder.query('COMMIT');
      await pausing;

      let answered = false;
      const blocked = waiter.query('SELECT 42 AS answer').then((r) => {
        answered = true;
        return r.rows[0].answer as number;
      });
      await until(watcher, 'SHOW POOLS', (rows) =>
        rows.some((r) => r.database === 'app' && r.cl_waiting === '1'),
      );
      expect(answered).toBe(false);
      // Another database is not paused.
      await withClient({ ...as('app', 'app-secret', 'sess') }, (c) => c.query('SELECT 1'));
      await admin.query('RESUME app');
      expect(await blocked).toBe(42);
    } finally {
      await admin.query('RESUME').catch(() => {});
      for (const c of [holder, waiter, admin, watcher]) await c.end();
    }
  });

  it('RELOAD re-reads the config file, and keeps it when the new one is invalid', async () => {
    const admin = await connect(ops());
    const original = await readFile(configPath, 'utf8');
    try {
      await writeFile(configPath, testConfigYaml({ port, adminPort, poolSize: 3, extraUsers: [adminUser] }));
      await admin.query('RELOAD');
      const dbs = await show(admin, 'SHOW DATABASES');
      expect(dbs.find((r) => r.name === 'app')!.pool_size).toBe('3');

      await writeFile(
        configPath,
        original.replace('pool: { mode: transaction, size: 2', 'pool: { mode: nope, size: 2'),
      );
      const err = await rejection(admin.query('RELOAD'));
      expect(err.code).toBe('F0000');
      expect(err.message).toContain('mode');
      expect((await show(admin, 'SHOW DATABASES')).find((r) => r.name === 'app')!.pool_size).toBe('3');
      await withClient(app(), (c) => c.query('SELECT 1'));
    } finally {
      await writeFile(configPath, original);
      await admin.end();
    }
  });

  it('works from psql', async () => {
    const url = `postgresql://ops:ops-secret@127.0.0.1:${port}/polyproxy`;
    const result = await psql(url, ['-c', 'SHOW POOLS', '-c', 'SHOW HELP']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/database\s*\|\s*user\s*\|\s*server/);
    expect(result.stdout).toContain('PAUSE [db]');
    const bad = await psql(url, ['-c', 'SHOW NOTHING']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('unrecognized admin console command');
  });
});

describe('admin console on a sharded database', () => {
  it("lists every shard's servers with their shard index and role", async () => {
    const pgCtx = inject('pg');
    const primary = `${pgCtx.host}:${pgCtx.port}`;
    const replica = `${pgCtx.host}:${pgCtx.replicaPort}`;
    const sharded = await startTestProxy({
      extraUsers: [adminUser],
      databasesYaml: [
        '  app:',
        `    backend: { user: postgres, password: ${JSON.stringify(pgCtx.password)}, database: app }`,
        `    shards: [{ primary: "${primary}" }, { primary: "${primary}", replicas: ["${replica}"] }]`,
        '    sharding: { tables: { users: id } }',
      ].join('\n'),
    });
    try {
      const config = { ...sharded.client('ops', 'polyproxy'), password: 'ops-secret' };
      const pools = await withClient(config, (c) =>
        until(c, 'SHOW POOLS', (rows) => rows.some((r) => r.role === 'replica')),
      );
      expect(pools.map((r) => [r.shard, r.server, r.role])).toEqual([
        ['0', primary, 'primary'],
        ['1', primary, 'primary'],
        ['1', replica, 'replica'],
      ]);
      const dbs = await withClient(config, (c) => show(c, 'SHOW DATABASES'));
      expect(dbs.map((r) => r.shard)).toEqual(['0', '1', '1']);
    } finally {
      await sharded.close();
    }
  });
});
