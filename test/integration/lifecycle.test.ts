// Reload and graceful shutdown with clients connected: unchanged databases keep them, open transactions finish.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/sandbox/wait.js';
import { directConfig, startTestProxy } from './helpers/proxy.js';
import { connect, rejection, withClient } from './helpers/tools.js';

interface Watched {
  client: pg.Client;
  errors: (Error & { code?: string })[];
  ended: Promise<void>;
}

/** A connected client whose asynchronous errors (a FATAL from the proxy) and end are recorded. */
async function watched(config: pg.ClientConfig): Promise<Watched> {
  const client = await connect(config);
  const errors: (Error & { code?: string })[] = [];
  client.on('error', (e) => errors.push(e));
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  return { client, errors, ended };
}

async function rowsFor(tag: string): Promise<number> {
  return withClient(
    directConfig(),
    async (d) =>
      (await d.query('SELECT count(*)::int AS n FROM lifecycle_rows WHERE tag = $1', [tag])).rows[0].n,
  );
}

beforeAll(async () => {
  await withClient(directConfig(), (c) =>
    c.query('DROP TABLE IF EXISTS lifecycle_rows; CREATE TABLE lifecycle_rows (tag text, n int)'),
  );
});

afterAll(async () => {
  await withClient(directConfig(), (c) => c.query('DROP TABLE IF EXISTS lifecycle_rows'));
});

describe('admin endpoint', () => {
  it('serves /healthz, /readyz and Prometheus metrics named polyproxy_*', async () => {
    const proxy = await startTestProxy();
    try {
      await withClient(proxy.client(), (c) => c.query('SELECT 1'));
      const base = `http://127.0.0.1:${proxy.adminPort}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      const names = (await metrics.text())
        .split('\n')
        .filter((line) => line.startsWith('# TYPE '))
        .map((line) => line.split(' ')[2]);
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => !n.startsWith('polyproxy_'))).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});

describe('reload', () => {
  it('keeps clients of an unchanged database and drains those of a changed one after their transaction', async () => {
    const proxy = await startTestProxy({ poolSize: 2, sessPoolSize: 2 });
    try {
      const app = await watched(proxy.client());
      const sessIdle = await watched(proxy.client('app', 'sess'));
      const sessBusy = await watched(proxy.client('app', 'sess'));
      await app.client.query('BEGIN');
      const xid = (await app.client.query('SELECT txid_current() AS x')).rows[0].x;
      await sessBusy.client.query('BEGIN');
      await sessBusy.client.query("INSERT INTO lifecycle_rows VALUES ('reload-sess', 1)");

      const reloaded = proxy.proxy.reload(proxy.configWith({ poolSize: 2, sessPoolSize: 3 }));

      await sessIdle.ended;
      expect(sessIdle.errors[0]?.code).toBe('57P01');
      await sessBusy.client.query("INSERT INTO lifecycle_rows VALUES ('reload-sess', 2)");
      await sessBusy.client.query('COMMIT');
      await sessBusy.ended;
      expect(sessBusy.errors[0]?.code).toBe('57P01');
      await reloaded;

      expect((await app.client.query('SELECT txid_current() AS x')).rows[0].x).toBe(xid);
      await app.client.query("INSERT INTO lifecycle_rows VALUES ('reload-app', 1)");
      await app.client.query('COMMIT');
      expect((await app.client.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
      expect(app.errors).toEqual([]);
      await app.client.end();

      expect(await rowsFor('reload-sess')).toBe(2);
      expect(await rowsFor('reload-app')).toBe(1);
      expect((await withClient(proxy.client('app', 'sess'), (c) => c.query('SELECT 1 AS ok'))).rows).toEqual([
        { ok: 1 },
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('applies added users and databases and ends the clients of a removed database', async () => {
    const proxy = await startTestProxy({ extraDatabases: { extra: {} } });
    try {
      const extra = await watched(proxy.client('app', 'extra'));
      const app = await watched(proxy.client());
      expect(
        (
          await rejection(
            withClient({ ...proxy.client(), user: 'newbie', password: 'newbie-pw' }, (c) =>
              c.query('SELECT 1'),
            ),
          )
        ).code,
      ).toBe('28P01');
      await proxy.proxy.reload(
        proxy.configWith({
          extraUsers: ['{ name: newbie, password: newbie-pw }'],
          extraDatabases: { added: {} },
        }),
      );
      await extra.ended;
      expect(extra.errors[0]?.code).toBe('57P01');
      expect(
        (await rejection(withClient(proxy.client('app', 'extra'), (c) => c.query('SELECT 1')))).code,
      ).toBe('3D000');
      const r = await withClient(
        { ...proxy.client('app', 'added'), user: 'newbie', password: 'newbie-pw' },
        (c) => c.query('SELECT current_database() AS db'),
      );
      expect(r.rows).toEqual([{ db: 'app' }]);
      expect((await app.client.query('SELECT 2 AS ok')).rows).toEqual([{ ok: 2 }]);
      await app.client.end();
    } finally {
      await proxy.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('lets an open transaction commit, then disconnects its client with 57P01 and refuses new clients', async () => {
    const proxy = await startTestProxy({ poolSize: 2, shutdownTimeout: '20s' });
    const inTx = await watched(proxy.client());
    const idle = await watched(proxy.client());
    await inTx.client.query('BEGIN');
    await inTx.client.query("INSERT INTO lifecycle_rows VALUES ('shutdown-commit', 1)");

    const closed = proxy.close();

    await idle.ended;
    expect(idle.errors[0]?.code).toBe('57P01');
    const refused = await rejection(withClient(proxy.client(), (c) => c.query('SELECT 1')));
    expect(refused.message).toMatch(/ECONNREFUSED|57P01|shutting down/);
    const ready = await fetch(`http://127.0.0.1:${proxy.adminPort}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    expect(ready).not.toBe(200);

    await inTx.client.query("INSERT INTO lifecycle_rows VALUES ('shutdown-commit', 2)");
    await inTx.client.query('COMMIT');
    await inTx.ended;
    expect(inTx.errors[0]?.code).toBe('57P01');
    await closed;
    expect(await rowsFor('shutdown-commit')).toBe(2);
  });

  it('delivers the result of a statement that is running when shutdown starts', async () => {
    const proxy = await startTestProxy({ poolSize: 2, shutdownTimeout: '20s' });
    const running = await watched(proxy.client());
    const result = running.client.query("SELECT pg_sleep(1) /* shutdown-running */, 'done' AS state");
    await withClient(directConfig(), (d) =>
      waitFor(
        async () =>
          (
            await d.query(
              "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%shutdown-running%' AND pid <> pg_backend_pid()",
            )
          ).rowCount === 1,
        { what: 'the statement to run', timeoutMs: 10_000, intervalMs: 20 },
      ),
    );
    const closed = proxy.close();
    expect((await result).rows[0].state).toBe('done');
    await running.ended;
    expect(running.errors[0]?.code).toBe('57P01');
    await closed;
  });

  it('ends a transaction still open at shutdown_timeout and rolls it back', async () => {
    const proxy = await startTestProxy({ poolSize: 2, shutdownTimeout: '1s' });
    const stuck = await watched(proxy.client());
    await stuck.client.query('BEGIN');
    await stuck.client.query("INSERT INTO lifecycle_rows VALUES ('shutdown-timeout', 1)");
    await proxy.close();
    await stuck.ended;
    expect(stuck.errors[0]?.code).toBe('57P01');
    await waitFor(
      async () =>
        (
          await withClient(directConfig(), (d) =>
            d.query(
              "SELECT 1 FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND query LIKE '%shutdown-timeout%'",
            ),
          )
        ).rowCount === 0,
      {
        what: 'the abandoned transaction to end',
        timeoutMs: 10_000,
      },
    );
    expect(await rowsFor('shutdown-timeout')).toBe(0);
  });
});
