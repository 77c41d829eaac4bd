// Two-phase commit survives a real crash: the proxy process is killed with SIGKILL while clients commit
// transactions over several shards; a new proxy resolves what was in doubt, and every transaction is then
// on all of its shards or on none.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { freePort } from '../../src/sandbox/ports.js';
import { waitUntilListening, type Managed } from '../../src/sandbox/process.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { connect } from './helpers/tools.js';
import { createAppDatabase, shardClient } from './sharding-helpers.js';
import { spawnProxy } from './helpers/proxy-process.js';

let cluster: Cluster;
let configPath: string;
let port: number;
const direct: pg.Client[] = [];

/** The built proxy in a process of its own, so it can be killed like a crashed one. */
async function startProxyProcess(): Promise<Managed> {
  const child = spawnProxy(configPath);
  await waitUntilListening(child, 'polyproxy', port);
  return child;
}

async function kill(child: Managed): Promise<void> {
  process.kill(child.pid, 'SIGKILL');
  await waitFor(() => child.exited() !== null || null, { what: 'the proxy to die', timeoutMs: 10_000 });
  await child.stop();
}

const client = () =>
  new pg.Client({ host: '127.0.0.1', port, user: 'app', password: 'app-secret', database: 'app' });

/** Inserts rows of one transaction id on every shard (ids 3k, 3k+1, 3k+2 spread over the shards) until stopped. */
async function writeUntilKilled(worker: number, done: () => boolean, committed: () => void): Promise<void> {
  const c = client();
  c.on('error', () => {});
  try {
    await c.connect();
    for (let k = worker * 100_000; !done(); k++) {
      const values = [0, 1, 2, 3, 4, 5].map((i) => `(${k * 10 + i}, ${k})`).join(', ');
      await c.query(`INSERT INTO ledger (id, tx) VALUES ${values}`);
      committed();
    }
  } catch {
    // The proxy was killed under this client: expected.
  } finally {
    await c.end().catch(() => {});
  }
}

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'polyproxy-crash-'));
  configPath = join(dir, 'polyproxy.yaml');
  const config = {
    listen: `127.0.0.1:${port}`,
    log: { level: 'warn' },
    workers: 1,
    users: [{ name: 'app', password: 'app-secret' }],
    databases: {
      app: {
        backend: { user: 'postgres', password: cluster.password, database: 'app' },
        pool: { mode: 'transaction', size: 4 },
        shards: cluster.shards.map((s) => ({ primary: `${s.primary.host}:${s.primary.port}` })),
        sharding: { tables: { ledger: 'id' } },
      },
    },
  };
  await writeFile(configPath, stringify(config));
  for (let i = 0; i < 3; i++) direct.push(await connect(shardClient(cluster, i)));
  const proxy = await startProxyProcess();
  const c = client();
  await c.connect();
  await c.query('CREATE TABLE ledger (id int8 PRIMARY KEY, tx int8 NOT NULL)');
  await c.end();
  await proxy.stop();
});

afterAll(async () => {
  for (const d of direct) await d.end();
  await cluster?.stop();
});

describe('a proxy killed during two-phase commits', () => {
  it('leaves every transaction on all of its shards or none, once another proxy resolved the ones in doubt', async () => {
    let inDoubtSeen = 0;
    for (let attempt = 0; attempt < 16 && inDoubtSeen === 0; attempt++) {
      const proxy = await startProxyProcess();
      let killed = false;
      let commits = 0;
      const writers = [0, 1, 2, 3].map((w) =>
        writeUntilKilled(
          attempt * 10 + w,
          () => killed,
          () => commits++,
        ),
      );
      // The first transaction of a fresh proxy opens its pools (logins to every shard), which can take longer than
      // the pause below on a loaded machine: the kill waits for one commit, so the check below has rows to see.
      await waitFor(() => commits > 0 || proxy.exited() !== null || null, {
        what: 'a first commit through the proxy',
        timeoutMs: 30_000,
      });
      await new Promise((r) => setTimeout(r, 300 + attempt * 97));
      await kill(proxy);
      killed = true;
      await Promise.all(writers);
      const prepared = await Promise.all(
        direct.map(
          async (d) => (await d.query('SELECT count(*)::int AS n FROM pg_prepared_xacts')).rows[0].n,
        ),
      );
      inDoubtSeen += prepared.reduce((a: number, b: number) => a + b, 0);
      // A new instance resolves at start what no live coordinator owns.
      const next = await startProxyProcess();
      await waitFor(
        async () => {
          const left = await Promise.all(
            direct.map(
              async (d) => (await d.query('SELECT count(*)::int AS n FROM pg_prepared_xacts')).rows[0].n,
            ),
          );
          return left.every((n) => n === 0) || null;
        },
        { what: 'in-doubt transactions to be resolved', timeoutMs: 20_000 },
      );
      await next.stop();
    }
    expect(inDoubtSeen, 'no kill landed between PREPARE and COMMIT PREPARED').toBeGreaterThan(0);
    const counts = new Map<string, number>();
    for (const d of direct) {
      for (const row of (await d.query('SELECT tx::text, count(*)::int AS n FROM ledger GROUP BY tx')).rows)
        counts.set(row.tx, (counts.get(row.tx) ?? 0) + row.n);
    }
    expect(counts.size).toBeGreaterThan(0);
    const torn = [...counts].filter(([, n]) => n !== 6);
    expect(torn).toEqual([]);
  }, 240_000);
});
