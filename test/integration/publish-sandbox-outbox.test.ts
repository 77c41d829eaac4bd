// The outbox `npm start` sets up when RabbitMQ is installed: its publish settings are valid, a row inserted through
// the proxy reaches `npm run watch-outbox` as a message equal to the row, and the published row leaves the outbox.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startSandboxOutbox, type SandboxOutbox } from '../../src/sandbox/sandbox-outbox.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { slotActive } from './publish-helpers.js';

const watchScript = fileURLToPath(new URL('../../scripts/watch-outbox.mjs', import.meta.url));
let cluster: Cluster;
let outbox: SandboxOutbox;
let proxy: TestProxy;
let watcher: ChildProcess | undefined;
let direct: pg.Client;

beforeAll(async () => {
  cluster = await startCluster({ shards: 1, replicasPerShard: 0 });
  const primary = cluster.shards[0]!.primary;
  await primary.psql('CREATE DATABASE app');
  outbox = await startSandboxOutbox(createLogger({ level: 'error' }), {
    primary: `${primary.host}:${primary.port}`,
    backend: { user: 'postgres', password: cluster.password, database: 'app' },
  });
  proxy = await startTestProxy({
    databasesYaml: [
      '  app:',
      `    backend: { user: postgres, password: ${JSON.stringify(cluster.password)}, database: app }`,
      '    pool: { mode: transaction, size: 2 }',
      `    shards: [{ primary: "${primary.host}:${primary.port}" }]`,
    ].join('\n'),
    pluginsYaml: `  publish: ${JSON.stringify(outbox.plugins.publish)}`,
  });
  direct = new pg.Client({
    host: primary.host,
    port: primary.port,
    user: 'postgres',
    password: cluster.password,
    database: 'app',
  });
  await direct.connect();
  // The first consumer makes the slot: a row written before that would not be in it.
  await slotActive(direct, 'polyproxy_publish');
}, 180_000);

afterAll(async () => {
  watcher?.kill('SIGINT');
  await direct?.end().catch(() => {});
  await proxy?.close();
  await outbox?.stop();
  await cluster?.stop();
}, 60_000);

describe('the sandbox outbox', () => {
  it('publishes a row inserted through the proxy to the watch-outbox script, then deletes it', async () => {
    expect(outbox.lines.join('\n')).toMatch(/npm run watch-outbox -- amqp:\/\//);
    const url = /npm run watch-outbox -- (amqp:\/\/\S+?)\)?$/m.exec(outbox.lines.join('\n'))![1]!;
    const client = new pg.Client(proxy.client());
    await client.connect();
    let row: Record<string, string>;
    try {
      row = (
        await client.query(
          `INSERT INTO outbox (aggregate, type, payload) VALUES ('order', 'created', '{"n": 1}')
           RETURNING id::text, aggregate, type, payload::text, created_at::text`,
        )
      ).rows[0];
    } finally {
      await client.end();
    }
    watcher = spawn(process.execPath, [watchScript, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = createInterface({ input: watcher.stdout! });
    const first = await new Promise<string>((resolve) => lines.once('line', resolve));
    const space = first.indexOf(' ');
    expect(first.slice(0, space)).toBe('outbox.insert');
    const message = JSON.parse(first.slice(space + 1));
    expect(message.table).toBe('public.outbox');
    expect(message.new).toEqual(row);
    await waitFor(
      async () => Number((await direct.query('SELECT count(*) AS n FROM outbox')).rows[0].n) === 0,
      { timeoutMs: 30_000, what: 'the published outbox row to be deleted' },
    );
  }, 120_000);
});
