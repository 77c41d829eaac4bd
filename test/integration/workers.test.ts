// The proxy with `workers: 2` (dist/cli.js): both workers serve clients, a cancel reaches the client's worker
// whichever worker it lands on, a killed worker is started again while the other keeps its clients, and
// /metrics is one scrape summed over the workers.
import net from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRequest } from '../../src/protocol/frontend-messages.js';
import { processTree } from '../../src/sandbox/pids.js';
import { freePort } from '../../src/sandbox/ports.js';
import { spawnManaged, waitUntilListening, type Managed } from '../../src/sandbox/process.js';
import { proxyCommand } from '../../src/sandbox/proxy-runtime.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { testConfigYaml } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
let child: Managed;
let port: number;
let adminPort: number;
let configPath: string;
const open: pg.Client[] = [];

/** The worker that serves a client: the low byte of the cancel secret it was handed. */
const workerOf = (c: pg.Client) => (c as unknown as { secretKey: number }).secretKey & 0xff;
const keyOf = (c: pg.Client) => c as unknown as { processID: number; secretKey: number };

async function client(database = 'app'): Promise<pg.Client> {
  const c = await connect({ host: '127.0.0.1', port, user: 'app', password: 'app-secret', database });
  open.push(c);
  return c;
}

/** Clients until both workers have some (connections go round-robin; bounded). */
async function clientsOnBothWorkers(database = 'app'): Promise<Map<number, pg.Client[]>> {
  const by = new Map<number, pg.Client[]>();
  for (let i = 0; i < 20 && by.size < 2; i++) {
    const c = await client(database);
    by.set(workerOf(c), [...(by.get(workerOf(c)) ?? []), c]);
  }
  return by;
}

async function sendCancel(c: pg.Client): Promise<void> {
  const { processID, secretKey } = keyOf(c);
  const s = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.once('close', () => resolve());
    s.once('connect', () => s.end(cancelRequest(processID, secretKey)));
  });
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{database="app"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

beforeAll(async () => {
  port = await freePort();
  adminPort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'polyproxy-workers-'));
  configPath = join(dir, 'polyproxy.yaml');
  await writeFile(configPath, testConfigYaml({ port, adminPort, poolSize: 4, workers: 2 }));
  // On the runtime the proxy runs on by default (Node, or Bun with POLYPROXY_RUNTIME=bun).
  const { cmd, args } = proxyCommand();
  child = spawnManaged(cmd, [...args, cli, '--config', configPath]);
  await waitUntilListening(child, 'polyproxy', port);
});

afterAll(async () => {
  for (const c of open) await c.end().catch(() => {});
  await child?.stop();
});

describe('workers: 2', () => {
  it('serves clients on both workers, and /metrics sums their clients', async () => {
    const by = await clientsOnBothWorkers();
    expect([...by.keys()].sort()).toEqual([0, 1]);
    for (const clients of by.values())
      for (const c of clients) expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    const total = [...by.values()].flat().length;
    await waitFor(async () => (await metric('polyproxy_client_connections')) === total, {
      what: `/metrics to count ${total} clients over both workers`,
      timeoutMs: 10_000,
    });
  });

  it('cancels the statement of a client on either worker, whichever worker the cancel reaches', async () => {
    const by = await clientsOnBothWorkers();
    // Two cancels per worker: connections alternate between workers, so some land on the other one.
    for (const id of [0, 1, 0, 1]) {
      const c = by.get(id)![0];
      const running = c.query('SELECT pg_sleep(30)').then(
        () => null,
        (e: { code: string }) => e.code,
      );
      await new Promise((r) => setTimeout(r, 300));
      await sendCancel(c);
      expect(await running).toBe('57014');
    }
  });

  it('starts a killed worker again; the other worker keeps its clients', async () => {
    const by = await clientsOnBothWorkers();
    const workers = processTree(child.pid).filter((pid) => pid !== child.pid);
    expect(workers.length).toBeGreaterThanOrEqual(2);
    process.kill(workers[0], 'SIGKILL');
    const alive = async (c: pg.Client) =>
      c.query('SELECT 1').then(
        () => true,
        () => false,
      );
    await new Promise((r) => setTimeout(r, 500));
    const survived = await Promise.all([0, 1].map(async (id) => Promise.all(by.get(id)!.map(alive))));
    // One worker's clients all lost their connection, the other's all still work.
    expect(survived.map((s) => s.every((x) => x)).sort()).toEqual([false, true]);
    expect(survived.map((s) => s.some((x) => x)).sort()).toEqual([false, true]);
    await waitFor(async () => (await clientsOnBothWorkers()).size === 2, {
      what: 'the killed worker to serve clients again',
      timeoutMs: 20_000,
    });
  });

  it('reloads every worker on SIGHUP: a database added to the file is served by both', async () => {
    const next = testConfigYaml({ port, adminPort, poolSize: 4, workers: 2, extraDatabases: { added: {} } });
    await writeFile(configPath, next);
    process.kill(child.pid, 'SIGHUP');
    await waitFor(async () => (await clientsOnBothWorkers('added').catch(() => new Map())).size === 2, {
      what: 'both workers to serve the added database',
      timeoutMs: 20_000,
    });
  });
});
