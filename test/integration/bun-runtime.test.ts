// The built proxy (dist/cli.js) on Bun, on Bun's own sockets: logins refused and accepted, simple and extended
// queries, results larger than the socket buffers (written on drain), cancel, the parser thread, TLS, and
// workers: 2 with the kernel spreading clients (SO_REUSEPORT). Results are compared with PostgreSQL's own.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cancelRequest } from '../../src/protocol/frontend-messages.js';
import { freePort } from '../../src/sandbox/ports.js';
import { spawnManaged, waitUntilListening, type Managed } from '../../src/sandbox/process.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { testConfigYaml } from './helpers/proxy.js';
import { connect, rejection } from './helpers/tools.js';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const bun = fileURLToPath(new URL('../../node_modules/.bin/bun', import.meta.url));
const open: pg.Client[] = [];
const running: Managed[] = [];

interface Proxy {
  port: number;
  adminPort: number;
}

async function startOnBun(
  workers: number,
  env: NodeJS.ProcessEnv = {},
  tls?: { cert: string; key: string },
): Promise<Proxy> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), 'polyproxy-bun-'));
  const configPath = join(dir, 'polyproxy.yaml');
  await writeFile(configPath, testConfigYaml({ port, adminPort, poolSize: 4, workers, tls }));
  const child = spawnManaged(bun, [cli, '--config', configPath], { env: { ...process.env, ...env } });
  running.push(child);
  await waitUntilListening(child, 'polyproxy on Bun', port);
  return { port, adminPort };
}

async function client(p: Proxy, password = 'app-secret'): Promise<pg.Client> {
  const c = await connect({ host: '127.0.0.1', port: p.port, user: 'app', password, database: 'app' });
  open.push(c);
  return c;
}

async function direct(): Promise<pg.Client> {
  const ctx = inject('pg');
  const c = await connect({ ...ctx, user: 'postgres', database: 'app' });
  open.push(c);
  return c;
}

/** A result of about 12 MB: far beyond a socket buffer, so the proxy must wait for the client to drain. */
const wide = `SELECT i, repeat(md5(i::text), 8) AS t FROM generate_series(1, 45000) AS i`;
const digest = `SELECT count(*)::int AS n, md5(string_agg(t, ',' ORDER BY i)) AS h FROM (${wide}) AS w`;

const workerOf = (c: pg.Client) => (c as unknown as { secretKey: number }).secretKey & 0xff;

let one: Proxy;

beforeAll(async () => {
  if (!existsSync(bun)) throw new Error('bun is a dev dependency: run npm ci');
  one = await startOnBun(1);
});

afterAll(async () => {
  for (const c of open) await c.end().catch(() => {});
  await Promise.all(running.map((c) => c.stop()));
});

describe('the proxy on Bun', () => {
  it('refuses a wrong password with 28P01 and serves the right one', async () => {
    expect((await rejection(client(one, 'wrong'))).code).toBe('28P01');
    const c = await client(one);
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('relays simple and extended queries as PostgreSQL answers them', async () => {
    const [c, d] = [await client(one), await direct()];
    const q = { text: 'SELECT $1::int + 1 AS n, $2::text AS s', values: [41, 'x'] };
    expect((await c.query(q)).rows).toEqual((await d.query(q)).rows);
    const named = { name: 'bun-named', ...q };
    expect((await c.query(named)).rows).toEqual([{ n: 42, s: 'x' }]);
    expect((await c.query(named)).rows).toEqual([{ n: 42, s: 'x' }]);
  });

  it('streams results larger than the socket buffers whole, to several clients at once', async () => {
    const d = await direct();
    const expected = (await d.query(digest)).rows[0] as { n: number; h: string };
    const last = (await d.query(`${wide} ORDER BY i DESC LIMIT 1`)).rows[0];
    const clients = await Promise.all([1, 2, 3].map(() => client(one)));
    const results = await Promise.all(clients.map((c) => c.query(wide)));
    for (const r of results) {
      expect(r.rows.length).toBe(expected.n);
      expect(r.rows.at(-1)).toEqual(last);
    }
    // The same digest through the proxy: every byte arrived in order.
    expect((await clients[0].query(digest)).rows[0]).toEqual(expected);
  });

  it('cancels a running statement', async () => {
    const c = await client(one);
    const sleeping = c.query('SELECT pg_sleep(30)').then(
      () => null,
      (e: { code: string }) => e.code,
    );
    await new Promise((r) => setTimeout(r, 300));
    const key = c as unknown as { processID: number; secretKey: number };
    await new Promise<void>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: one.port });
      s.once('error', reject);
      s.once('close', () => resolve());
      s.once('connect', () => s.end(cancelRequest(key.processID, key.secretKey)));
    });
    expect(await sleeping).toBe('57014');
  });

  it('parses a statement beyond 256 kB in its parser thread (worker_threads)', async () => {
    const c = await client(one);
    const long = 'x'.repeat(300_000);
    expect((await c.query(`SELECT length('${long}') AS n`)).rows).toEqual([{ n: 300_000 }]);
  });

  it('upgrades a client to TLS after SSLRequest (node:net and node:tls under Bun)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polyproxy-bun-tls-'));
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    const subject = ['-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert];
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', ...subject]);
    const secured = await startOnBun(1, {}, { cert, key });
    const c = await connect({
      host: '127.0.0.1',
      port: secured.port,
      user: 'app',
      password: 'app-secret',
      database: 'app',
      ssl: { rejectUnauthorized: false },
    });
    open.push(c);
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(
      (c as unknown as { connection: { stream: { encrypted?: boolean } } }).connection.stream.encrypted,
    ).toBe(true);
  });

  it('serves on node:net under Bun too when POLYPROXY_TRANSPORT=node', async () => {
    const forced = await startOnBun(1, { POLYPROXY_TRANSPORT: 'node' });
    const c = await client(forced);
    expect((await c.query(digest)).rows).toEqual((await (await direct()).query(digest)).rows);
  });

  it('runs workers: 2, both serving clients, with /metrics summed over them', async () => {
    const two = await startOnBun(2);
    const by = new Map<number, pg.Client[]>();
    for (let i = 0; i < 40 && by.size < 2; i++) {
      const c = await client(two);
      by.set(workerOf(c), [...(by.get(workerOf(c)) ?? []), c]);
    }
    expect([...by.keys()].sort()).toEqual([0, 1]);
    const total = [...by.values()].flat().length;
    const metric = async () => {
      const text = await (await fetch(`http://127.0.0.1:${two.adminPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('polyproxy_client_connections{database="app"}'));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    await waitFor(async () => (await metric()) === total, {
      what: `/metrics to count ${total} clients over both workers`,
      timeoutMs: 10_000,
    });
  });
});
