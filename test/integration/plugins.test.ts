// The plugin layer end to end: a third-party plugin loaded by module path answers claimed statements, joins transactions, sees commits; cache hooks answer reads.
import path from 'node:path';
import pg from 'pg';
import Cursor from 'pg-cursor';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startProxy } from '../../src/proxy.js';
import { createLogger, silentLogger, type Logger } from '../../src/logger.js';
import { directConfig, startTestProxy, testConfigYaml, type TestProxy } from './helpers/proxy.js';
import { freePort } from '../../src/sandbox/ports.js';

const kvModule = path.resolve('src/plugins/examples/kv-memory.ts');
const cacheModule = path.resolve('test/integration/fixtures/memory-cache-plugin.ts');

/** A proxy of its own with this plugins section, for tests that need another config or logger. */
async function startWith(pluginsYaml: string, logger: Logger = silentLogger) {
  const port = await freePort();
  const yaml = testConfigYaml({ port, adminPort: await freePort(), pluginsYaml });
  const proxy = await startProxy(parseConfig(yaml, {}, 'plugins-test.yaml'), { logger });
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'app',
    password: 'app-secret',
    database: 'app',
  });
  return { proxy, client };
}

async function connect(proxy: TestProxy): Promise<pg.Client> {
  const client = new pg.Client(proxy.client());
  await client.connect();
  return client;
}

describe('a plugin loaded by module path (kv example)', () => {
  let proxy: TestProxy;
  let client: pg.Client;

  beforeAll(async () => {
    const direct = new pg.Client(directConfig());
    await direct.connect();
    await direct.query('DROP TABLE IF EXISTS plugin_orders; CREATE TABLE plugin_orders (id int primary key)');
    await direct.end();
    proxy = await startTestProxy({
      pluginsYaml: `  kv: { module: ${JSON.stringify(kvModule)}, options: { max_keys: 5 } }`,
    });
    client = await connect(proxy);
  });
  afterAll(async () => {
    await client?.end();
    await proxy?.close();
  });

  it('answers claimed statements over the simple protocol', async () => {
    await client.query("INSERT INTO kv.entries (key, value) VALUES ('a', '1'), ('b', NULL)");
    const res = await client.query('SELECT * FROM kv.entries');
    expect(res.command).toBe('SELECT');
    expect(res.rows).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: null },
    ]);
    expect(res.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ['key', 25],
      ['value', 25],
    ]);
    const del = await client.query("DELETE FROM kv.entries WHERE key = 'b'");
    expect(del.rowCount).toBe(1);
  });

  it('answers claimed statements over the extended protocol, named and unnamed', async () => {
    await client.query('INSERT INTO kv.entries (key, value) VALUES ($1, $2)', ['c', 'three']);
    const unnamed = await client.query('SELECT * FROM kv.entries WHERE key = $1', ['c']);
    expect(unnamed.rows).toEqual([{ key: 'c', value: 'three' }]);
    for (let i = 0; i < 3; i++) {
      const named = await client.query({
        name: 'kv-by-key',
        text: 'SELECT value FROM kv.entries WHERE key = $1',
        values: ['a'],
      });
      expect(named.rows).toEqual([{ value: '1' }]);
    }
    // PostgreSQL statements keep working beside them, on the same connection.
    expect((await client.query('SELECT $1::int + 1 AS n', [41])).rows).toEqual([{ n: 42 }]);
  });

  it('describes statements for drivers that ask first (postgres.js)', async () => {
    const sql = postgres(proxy.url(), { max: 1, prepare: true });
    try {
      const rows = await sql`SELECT key, value FROM kv.entries WHERE key = ${'c'}`;
      expect([...rows]).toEqual([{ key: 'c', value: 'three' }]);
      const again = await sql`SELECT key, value FROM kv.entries WHERE key = ${'a'}`;
      expect([...again]).toEqual([{ key: 'a', value: '1' }]);
    } finally {
      await sql.end();
    }
  });

  it('sends plugin errors with their SQLSTATE and keeps the session usable', async () => {
    await expect(
      client.query("INSERT INTO kv.entries (key, value) VALUES ('a', 'again')"),
    ).rejects.toMatchObject({
      code: '23505',
    });
    await expect(client.query('UPDATE kv.entries SET value = 1')).rejects.toMatchObject({ code: '0A000' });
    await expect(client.query('SELECT * FROM kv.entries WHERE key = $1', ['a'])).resolves.toMatchObject({
      rowCount: 1,
    });
  });

  it('refuses a statement that mixes plugin tables with PostgreSQL tables', async () => {
    const err = await client.query('SELECT * FROM kv.entries, plugin_orders').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '0A000' });
    expect((err as Error).message).toContain('plugin_orders');
  });

  it('commits and rolls back plugin writes with the transaction block', async () => {
    await client.query('BEGIN');
    await client.query("INSERT INTO kv.entries (key, value) VALUES ('tx', 'rolled back')");
    await client.query('INSERT INTO plugin_orders VALUES (1)');
    await client.query('ROLLBACK');
    expect((await client.query("SELECT * FROM kv.entries WHERE key = 'tx'")).rowCount).toBe(0);
    expect((await client.query('SELECT * FROM plugin_orders')).rowCount).toBe(0);

    await client.query('BEGIN');
    await client.query("INSERT INTO kv.entries (key, value) VALUES ('tx', 'kept')");
    await client.query('INSERT INTO plugin_orders VALUES (2)');
    await client.query('COMMIT');
    expect((await client.query("SELECT value FROM kv.entries WHERE key = 'tx'")).rows).toEqual([
      { value: 'kept' },
    ]);
    expect((await client.query('SELECT id FROM plugin_orders')).rows).toEqual([{ id: 2 }]);
  });

  it('aborts the block when a plugin statement fails inside it, as PostgreSQL would', async () => {
    await client.query('BEGIN');
    await expect(client.query("INSERT INTO kv.entries (key) VALUES ('a')")).rejects.toMatchObject({
      code: '23505',
    });
    await expect(client.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await client.query('ROLLBACK');
    expect((await client.query('SELECT 2 AS n')).rows).toEqual([{ n: 2 }]);
  });

  it('tells plugins about committed writes before the client sees the commit', async () => {
    await client.query('INSERT INTO plugin_orders VALUES (3)');
    const commits = await client.query('SELECT * FROM kv.commits');
    const row = commits.rows.find((r: { table_name: string }) => r.table_name === 'plugin_orders');
    // One commit from the transaction block above, one from this autocommit insert.
    expect(row).toEqual({ table_name: 'plugin_orders', commits: '2' });
  });

  it('explains where a claimed statement goes', async () => {
    const res = await client.query('EXPLAIN ROUTE SELECT * FROM kv.entries');
    expect(res.rows[0].route).toBe('plugin=kv kv-memory table=kv.entries');
  });
});

describe('cache hooks (a test plugin keeping results in memory)', () => {
  let proxy: TestProxy;
  let client: pg.Client;
  let direct: pg.Client;

  beforeAll(async () => {
    direct = new pg.Client(directConfig());
    await direct.connect();
    await direct.query('DROP TABLE IF EXISTS cached_items; CREATE TABLE cached_items (id int, label text)');
    await direct.query("INSERT INTO cached_items VALUES (1, 'one'), (2, 'two')");
    proxy = await startTestProxy({ pluginsYaml: `  memcache: { module: ${JSON.stringify(cacheModule)} }` });
    client = await connect(proxy);
  });
  afterAll(async () => {
    await client?.end();
    await direct?.end();
    await proxy?.close();
  });

  it('answers a repeated read from the stored result, over both protocols', async () => {
    const simple = 'SELECT id, label FROM cached_items ORDER BY id';
    const first = await client.query(simple);
    const extended = { text: 'SELECT label FROM cached_items WHERE id = $1', values: [1] };
    expect((await client.query(extended)).rows).toEqual([{ label: 'one' }]);
    // Changed behind the proxy's back: a cached answer still shows the old value.
    await direct.query("UPDATE cached_items SET label = 'uno' WHERE id = 1");
    const second = await client.query(simple);
    expect(second.rows).toEqual(first.rows);
    expect(second.fields.map((f) => f.dataTypeID)).toEqual([23, 25]);
    expect((await client.query(extended)).rows).toEqual([{ label: 'one' }]);
    // Another parameter is another entry.
    expect((await client.query({ ...extended, values: [2] })).rows).toEqual([{ label: 'two' }]);
  });

  it('forgets results when a write through the proxy commits', async () => {
    await client.query("UPDATE cached_items SET label = 'eins' WHERE id = 1");
    expect((await client.query('SELECT label FROM cached_items WHERE id = $1', [1])).rows).toEqual([
      { label: 'eins' },
    ]);
  });

  it('lets a cursor that fetches with Flush instead of Sync through', async () => {
    const cursor = client.query(new Cursor('SELECT id FROM cached_items ORDER BY id'));
    const rows = await new Promise<unknown[]>((resolve, reject) =>
      cursor.read(10, (err, r) => (err ? reject(err) : resolve(r))),
    );
    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
    await new Promise<void>((resolve, reject) => cursor.close((err) => (err ? reject(err) : resolve())));
  });

  it('never answers inside a transaction block', async () => {
    await direct.query("UPDATE cached_items SET label = 'zwei' WHERE id = 2");
    await client.query('BEGIN');
    const inBlock = await client.query('SELECT label FROM cached_items WHERE id = $1', [2]);
    await client.query('COMMIT');
    expect(inBlock.rows).toEqual([{ label: 'zwei' }]);
  });

  it('runs a read on PostgreSQL when the hook fails', async () => {
    const { proxy: failing, client: c } = await startWith(
      `  memcache: { module: ${JSON.stringify(cacheModule)}, options: { fail: true } }`,
    );
    try {
      await c.connect();
      expect((await c.query('SELECT count(*)::int AS n FROM cached_items')).rows).toEqual([{ n: 2 }]);
    } finally {
      await c.end();
      await failing.close();
    }
  });
});

describe('plugin configuration errors', () => {
  const start = (pluginsYaml: string) => startWith(pluginsYaml);

  it('names an unknown built-in', async () => {
    await expect(start('  nosuch: {}')).rejects.toThrow(/plugins\.nosuch: unknown built-in plugin/);
  });

  it('names a module that cannot be loaded', async () => {
    await expect(start('  mine: { module: ./does-not-exist.js }')).rejects.toThrow(
      /plugins\.mine: cannot load module/,
    );
  });

  it('names the key path of an invalid option', async () => {
    await expect(
      start(`  kv: { module: ${JSON.stringify(kvModule)}, options: { max_keys: 0 } }`),
    ).rejects.toThrow(/plugins\.kv\.max_keys: /);
  });
});

describe('plugin failures in the logs', () => {
  it('carry the connection id and the statement fingerprint, never the statement text', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', format: 'json', write: (line) => lines.push(line) });
    const { proxy, client: c } = await startWith(`  kv: { module: ${JSON.stringify(kvModule)} }`, logger);
    try {
      await c.connect();
      await c.query("INSERT INTO kv.entries (key, value) VALUES ('secret-key', 'v')");
      await expect(
        c.query("INSERT INTO kv.entries (key, value) VALUES ('secret-key', 'w')"),
      ).rejects.toMatchObject({
        code: '23505',
      });
    } finally {
      await c.end();
      await proxy.close();
    }
    const failed = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'plugin statement failed');
    expect(failed).toMatchObject({
      sqlstate: '23505',
      client: expect.any(Number),
      fingerprint: expect.any(String),
    });
    expect(lines.join('\n')).not.toContain('secret-key');
  });
});
