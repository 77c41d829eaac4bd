// The pool's timeouts against a real PostgreSQL: idle_transaction_timeout, query_timeout, and a frozen server.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/sandbox/wait.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { RawConnection, errorFields, query } from './helpers/raw-client.js';
import { connect, rejection, withClient } from './helpers/tools.js';

const started: TestProxy[] = [];
async function proxyWith(databasesYaml: string): Promise<TestProxy> {
  const p = await startTestProxy({ databasesYaml });
  started.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.close()));
});

beforeAll(async () => {
  await withClient(directConfig(), (c) =>
    c.query('DROP TABLE IF EXISTS timeout_rows; CREATE TABLE timeout_rows (id int)'),
  );
});
afterAll(async () => {
  await withClient(directConfig(), (c) => c.query('DROP TABLE IF EXISTS timeout_rows'));
});

/** One transaction-pooled database `app` over the shared PostgreSQL, with these pool settings. */
function database(pool: string): string {
  const d = directConfig();
  return [
    '  app:',
    `    backend: { user: postgres, password: ${JSON.stringify(d.password)}, database: app }`,
    `    pool: { mode: transaction, size: 1, acquire_timeout: 20s, ${pool} }`,
    `    shards: [{ primary: "${d.host}:${d.port}" }]`,
  ].join('\n');
}

async function login(proxy: TestProxy): Promise<RawConnection> {
  return (await RawConnection.login(proxy.port, { user: 'app', password: 'app-secret', database: 'app' }))
    .conn;
}

describe('idle_transaction_timeout', () => {
  it('disconnects a client idle in a transaction with 25P03, rolls its work back and frees the connection', async () => {
    const proxy = await proxyWith(database('idle_transaction_timeout: 1s'));
    const idle = await login(proxy);
    idle.write(query('BEGIN; INSERT INTO timeout_rows VALUES (1)'));
    await idle.untilReady();
    // The only server connection is held by the idle client; this one waits for it.
    const waiting = withClient(proxy.client(), (c) => c.query('SELECT count(*)::int AS n FROM timeout_rows'));
    const rest = await idle.untilClosed();
    const errors = rest.filter((m) => m.type === 'E').map((m) => errorFields(m.body));
    expect(errors).toEqual([expect.objectContaining({ severity: 'FATAL', code: '25P03' })]);
    expect((await waiting).rows).toEqual([{ n: 0 }]);
  });

  it('leaves a client alone while it keeps working in its transaction, and one that is idle outside any', async () => {
    const proxy = await proxyWith(database('idle_transaction_timeout: 1s'));
    const c = await connect(proxy.client());
    try {
      await c.query('BEGIN');
      for (let i = 0; i < 6; i++) {
        await c.query('SELECT pg_sleep(0.4)');
      }
      await c.query('COMMIT');
      await new Promise((r) => setTimeout(r, 1500));
      expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      await c.end();
    }
  });
});

describe('query_timeout', () => {
  it('cancels a statement that runs too long with 57014, and the client goes on', async () => {
    const proxy = await proxyWith(database('query_timeout: 1s'));
    await withClient(proxy.client(), async (c) => {
      const err = await rejection(c.query('SELECT pg_sleep(30)'));
      expect(err.code).toBe('57014');
      expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    });
  });

  it('closes the connection of a frozen server that answers neither the statement nor the cancel (08006)', async () => {
    const proxy = await proxyWith(database('query_timeout: 1s'));
    const client = await login(proxy);
    client.write(query('BEGIN; SELECT pg_backend_pid()'));
    const reply = await client.untilReady();
    const pid = Number(reply.find((m) => m.type === 'D')!.body.toString('utf8', 6));
    process.kill(pid, 'SIGSTOP');
    try {
      client.write(query('SELECT 1'));
      const rest = await client.untilClosed();
      const errors = rest.filter((m) => m.type === 'E').map((m) => errorFields(m.body));
      expect(errors).toEqual([expect.objectContaining({ severity: 'FATAL', code: '08006' })]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The pool gets a new server connection for the next client.
    await waitFor(
      () =>
        withClient(proxy.client(), async (c) => (await c.query('SELECT 1 AS ok')).rows[0].ok === 1).catch(
          () => false,
        ),
      { what: 'a fresh server connection', timeoutMs: 15_000 },
    );
  });
});
