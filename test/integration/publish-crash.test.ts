// The publish plugin through failures: RabbitMQ killed (SIGKILL) and restarted mid-stream, then the publishing
// proxy (the built CLI in its own process) killed and another started. Every committed row arrives at least once,
// none from a rolled-back transaction, and per key the values first arrive in commit order.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { freePort } from '../../src/sandbox/ports.js';
import { waitUntilListening, type Managed } from '../../src/sandbox/process.js';
import { startRabbitMq, type RabbitMqServer } from '../../src/sandbox/rabbitmq.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { caughtUp, declareQueue, firstArrivals, slotActive, takeAll } from './publish-helpers.js';
import { spawnProxy } from './helpers/proxy-process.js';

const slot = 'polyproxy_publish_crash';
const keys = 20;

let cluster: Cluster;
let rabbit: RabbitMqServer;
let direct: pg.Client;
let dir: string;
let killed: Managed | undefined;
let survivor: TestProxy | undefined;
/** The committed (key, value) pairs, in commit order. */
const committed: { id: number; v: number }[] = [];
let seq = 0;

function publishConfig() {
  return {
    rabbitmq: { url: rabbit.url },
    slot,
    publication: slot,
    timeout: '3s',
    connect_timeout: '2s',
    tables: { crash_items: { rabbitmq: { exchange: 'crash', routing_key: 'items.{op}' } } },
  };
}

/** `count` transactions, one upsert each; every seventh is rolled back instead (its value negative). */
async function load(count: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    seq++;
    const id = seq % keys;
    const rollback = seq % 7 === 0;
    const v = rollback ? -seq : seq;
    await direct.query('BEGIN');
    await direct.query(
      'INSERT INTO crash_items VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v',
      [id, v],
    );
    await direct.query(rollback ? 'ROLLBACK' : 'COMMIT');
    if (!rollback) committed.push({ id, v });
  }
}

beforeAll(async () => {
  [cluster, rabbit] = await Promise.all([startCluster({ shards: 1, replicasPerShard: 0 }), startRabbitMq()]);
  const primary = cluster.shards[0]!.primary;
  await primary.psql('CREATE DATABASE app');
  direct = new pg.Client({
    host: primary.host,
    port: primary.port,
    user: 'postgres',
    password: cluster.password,
    database: 'app',
  });
  await direct.connect();
  await direct.query('CREATE TABLE crash_items (id int PRIMARY KEY, v int NOT NULL)');
  await declareQueue(rabbit.url, 'crash', 'crash', 'items.*');
  const backend = { user: 'postgres', password: cluster.password, database: 'app' };
  const shards = [{ primary: `${primary.host}:${primary.port}` }];
  const [port, adminPort] = [await freePort(), await freePort()];
  dir = await mkdtemp(join(tmpdir(), 'polyproxy-publish-crash-'));
  const configPath = join(dir, 'polyproxy.yaml');
  await writeFile(
    configPath,
    stringify({
      listen: `127.0.0.1:${port}`,
      admin: `127.0.0.1:${adminPort}`,
      workers: 1,
      log: { level: 'error' },
      users: [{ name: 'app', password: 'app-secret' }],
      databases: { app: { backend, pool: { mode: 'transaction', size: 2 }, shards } },
      plugins: { publish: publishConfig() },
    }),
  );
  killed = spawnProxy(configPath);
  await waitUntilListening(killed, 'polyproxy', port);
  await slotActive(direct, slot);
}, 240_000);

afterAll(async () => {
  await killed?.stop();
  await survivor?.close();
  await direct?.end().catch(() => {});
  await Promise.all([rabbit?.stop(), cluster?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('publishing through a broker crash and a proxy crash', () => {
  it('delivers every committed row at least once, in commit order per key, and nothing rolled back', async () => {
    await load(200);
    // Killed right after the burst, while the stream still publishes it.
    await rabbit.kill();
    await load(100);
    await rabbit.restart();
    await load(100);
    process.kill(-killed!.pid, 'SIGKILL');
    await killed!.stop();
    killed = undefined;
    await load(100);
    survivor = await startTestProxy({
      databasesYaml: [
        '  app:',
        `    backend: { user: postgres, password: ${JSON.stringify(cluster.password)}, database: app }`,
        '    pool: { mode: transaction, size: 2 }',
        `    shards: [{ primary: "${cluster.shards[0]!.primary.host}:${cluster.shards[0]!.primary.port}" }]`,
      ].join('\n'),
      pluginsYaml: `  publish: ${JSON.stringify(publishConfig())}`,
    });
    await caughtUp(direct, slot, 120_000);

    const messages = await takeAll(rabbit.url, 'crash');
    const arrived = new Set(messages.map((m) => `${m.key!.id} ${m.new!.v}`));
    const missing = committed.filter(({ id, v }) => !arrived.has(`${id} ${v}`));
    expect(missing).toEqual([]);
    expect(messages.filter((m) => Number(m.new!.v) < 0)).toEqual([]);
    const order = firstArrivals(messages, (m) => m.new!.v!);
    for (const [key, values] of order) {
      const expected = committed
        .filter(({ id }) => JSON.stringify({ id: String(id) }) === key)
        .map(({ v }) => String(v));
      expect(values, `key ${key}`).toEqual(expected);
    }
    console.log(
      `crash test: ${committed.length} committed rows, ${messages.length} messages (duplicates ${messages.length - committed.length})`,
    );
  }, 400_000);
});
