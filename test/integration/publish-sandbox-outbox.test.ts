// The outbox `npm start` sets up when RabbitMQ is installed: its publish settings are valid, a row inserted through
// the proxy reaches `npm run watch-outbox` as a message equal to the row, and the published row leaves the outbox.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startSandboxOutbox, type SandboxOutbox } from '../../src/sandbox/sandbox-outbox.js';
import { waitFor } from '../../src/sandbox/wait.js';
import type { TestProxy } from './helpers/proxy.js';
import { slotActive } from './publish-helpers.js';
import { startStreamRig, type StreamRig } from './stream-rig.js';

const watchScript = fileURLToPath(new URL('../../scripts/watch-outbox.mjs', import.meta.url));
let rig: StreamRig;
let outbox: SandboxOutbox;
let proxy: TestProxy;
let watcher: ChildProcess | undefined;

beforeAll(async () => {
  rig = await startStreamRig();
  outbox = await startSandboxOutbox(createLogger({ level: 'error' }), {
    primary: `${rig.primary.host}:${rig.primary.port}`,
    backend: { user: 'postgres', password: rig.password, database: 'app' },
  });
  proxy = await rig.startProxy(outbox.plugins);
  // The first consumer makes the slot: a row written before that would not be in it.
  await slotActive(rig.direct, 'polyproxy_publish');
}, 180_000);

afterAll(async () => {
  watcher?.kill('SIGINT');
  await rig?.stop();
  await outbox?.stop();
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
      async () => Number((await rig.direct.query('SELECT count(*) AS n FROM outbox')).rows[0].n) === 0,
      { timeoutMs: 30_000, what: 'the published outbox row to be deleted' },
    );
  }, 120_000);
});
