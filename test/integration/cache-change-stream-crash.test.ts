// The change stream's consumer killed with SIGKILL (the built proxy in a process of its own): another
// instance takes the stream over and invalidates its cached read after a later write straight to PostgreSQL.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { freePort } from '../../src/sandbox/ports.js';
import { waitUntilListening, type Managed } from '../../src/sandbox/process.js';
import { startRedis, type RedisServer } from '../../src/sandbox/redis.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { spawnProxy } from './helpers/proxy-process.js';

const slot = 'polyproxy_cache_crash';

let cluster: Cluster;
let redis: RedisServer;
let direct: pg.Client;
let dir: string;
let killed: Managed | undefined;
let survivor: TestProxy | undefined;
let reader: pg.Client | undefined;

async function metric(adminPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').at(-1));
  return sum;
}

const consuming = (adminPort: number) => metric(adminPort, 'polyproxy_plugin_cache_stream_consuming');

const readItem = async (client: pg.Client) =>
  (await client.query<{ v: number }>('SELECT v FROM crash_items WHERE id = 1')).rows[0]?.v;

beforeAll(async () => {
  [cluster, redis] = await Promise.all([startCluster({ shards: 1, replicasPerShard: 0 }), startRedis()]);
  const primary = cluster.shards[0].primary;
  await primary.psql('CREATE DATABASE app');
  direct = new pg.Client({
    host: primary.host,
    port: primary.port,
    user: 'postgres',
    password: cluster.password,
    database: 'app',
  });
  await direct.connect();
  await direct.query(
    'CREATE TABLE crash_items (id int PRIMARY KEY, v int NOT NULL); INSERT INTO crash_items VALUES (1, 0)',
  );
  const cache = {
    redis: redis.url,
    tables: ['crash_items'],
    default_ttl: '60s',
    timeout: '500ms',
    change_stream: { enabled: true, slot, publication: slot },
  };
  const backend = { user: 'postgres', password: cluster.password, database: 'app' };
  const shards = [{ primary: `${primary.host}:${primary.port}` }];
  const [port, adminPort] = [await freePort(), await freePort()];
  dir = await mkdtemp(join(tmpdir(), 'polyproxy-stream-crash-'));
  const configPath = join(dir, 'polyproxy.yaml');
  await writeFile(
    configPath,
    stringify({
      listen: `127.0.0.1:${port}`,
      admin: `127.0.0.1:${adminPort}`,
      log: { level: 'warn' },
      workers: 1,
      users: [{ name: 'app', password: 'app-secret' }],
      databases: { app: { backend, pool: { mode: 'transaction', size: 2 }, shards } },
      plugins: { cache },
    }),
  );
  killed = spawnProxy(configPath);
  await waitUntilListening(killed, 'polyproxy', port);
  await waitFor(async () => (await consuming(adminPort)) === 1, {
    timeoutMs: 20_000,
    what: 'the process to consume the stream',
  });
  const databasesYaml = [
    '  app:',
    `    backend: ${JSON.stringify(backend)}`,
    '    pool: { mode: transaction, size: 2 }',
    `    shards: ${JSON.stringify(shards)}`,
  ].join('\n');
  survivor = await startTestProxy({ databasesYaml, pluginsYaml: `  cache: ${JSON.stringify(cache)}` });
  reader = new pg.Client(survivor.client());
  await reader.connect();
}, 120_000);

afterAll(async () => {
  await reader?.end().catch(() => {});
  await survivor?.close();
  await killed?.stop();
  await direct?.end().catch(() => {});
  await redis?.stop();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('change stream consumer killed', () => {
  it('another instance takes the stream over and invalidates a later direct write', async () => {
    expect(await consuming(survivor!.adminPort)).toBe(0);
    await readItem(reader!);
    const hitsBefore = await metric(survivor!.adminPort, 'polyproxy_plugin_cache_hits_total');
    expect(await readItem(reader!)).toBe(0);
    expect(await metric(survivor!.adminPort, 'polyproxy_plugin_cache_hits_total')).toBe(hitsBefore + 1);

    const killedAt = performance.now();
    process.kill(killed!.pid, 'SIGKILL');
    await waitFor(() => killed!.exited() !== null || null, { what: 'the proxy to die', timeoutMs: 10_000 });
    await waitFor(async () => (await consuming(survivor!.adminPort)) === 1, {
      timeoutMs: 20_000,
      what: 'the surviving instance to take the stream over',
    });
    console.log(`takeover after SIGKILL of the consumer: ${(performance.now() - killedAt).toFixed(0)} ms`);
    await direct.query('UPDATE crash_items SET v = 7 WHERE id = 1');
    await waitFor(async () => (await readItem(reader!)) === 7, {
      timeoutMs: 15_000,
      intervalMs: 20,
      what: 'the surviving instance to see the direct write',
    });
  }, 60_000);
});
