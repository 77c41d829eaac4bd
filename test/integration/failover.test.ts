// No split brain with role: auto: after a promotion the old primary, back as a standalone server on an older
// timeline, gets no write from a running or a newly started proxy, nor while the new primary is frozen; two
// writable hosts on one timeline get writes refused. Rows are counted on each server directly.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { processTree } from '../../src/sandbox/pids.js';
import {
  startCluster,
  startPrimary,
  startReplica,
  type Cluster,
  type PgServer,
} from '../../src/sandbox/postgres.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { directTo, discard, routingDatabasesYaml, tally } from './helpers/routing.js';
import { connect, rejection, sleep, withClient, within } from './helpers/tools.js';

const started: TestProxy[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.close()));
  for (const stop of stops.splice(0).reverse()) await stop();
});

const tableSql =
  'CREATE TABLE writes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), via text NOT NULL, ' +
  'port int NOT NULL DEFAULT inet_server_port(), at timestamptz NOT NULL DEFAULT clock_timestamp())';

interface Ack {
  id: string;
  port: number;
}

/**
 * Inserts one row per round through `config` until stopped, or `maxWrites` rounds, or `maxMs`, whichever
 * comes first; keeps what was acknowledged (id, answering port) and the errors. Reconnects after an error.
 */
class BoundedWrites {
  readonly acked: Ack[] = [];
  readonly errors: (Error & { code?: string })[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly via: string,
    /** An insert without an answer by then is given up (not acknowledged) and the client replaced. */
    private readonly opTimeoutMs = 5000,
    private readonly maxWrites = 3000,
    private readonly maxMs = 60_000,
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    const deadline = Date.now() + this.maxMs;
    let client: pg.Client | null = null;
    for (let i = 0; i < this.maxWrites && !this.stopped && Date.now() < deadline; i++) {
      try {
        client ??= await within(connect(this.config), 5000, 'connect');
        const sql = 'INSERT INTO writes (via) VALUES ($1) RETURNING id, inet_server_port() AS port';
        const r = await within(client.query(sql, [this.via]), this.opTimeoutMs, 'insert');
        this.acked.push({ id: r.rows[0].id as string, port: r.rows[0].port as number });
      } catch (err) {
        this.errors.push(err as Error & { code?: string });
        const dead = client;
        client = null;
        if (dead) await discard(dead);
        await sleep(50);
      }
      await sleep(10);
    }
    if (client) await discard(client);
  }

  /** Acknowledged writes that a server on `port` answered. */
  on(port: number): Ack[] {
    return this.acked.filter((a) => a.port === port);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** Rows of `writes` on one server, asked directly: by proxy (via), those committed at or after `since`. */
async function rowsOn(server: PgServer, since: number): Promise<{ total: number; since: number }> {
  const r = await withClient(directTo(server), (c) =>
    c.query(
      'SELECT count(*)::int AS total, count(*) FILTER (WHERE at >= to_timestamp($1 / 1000.0))::int AS since FROM writes',
      [since],
    ),
  );
  return r.rows[0] as { total: number; since: number };
}

/** How many of the acknowledged ids a server holds. */
async function presentOn(server: PgServer, acks: Ack[]): Promise<number> {
  const r = await withClient(directTo(server), (c) =>
    c.query('SELECT count(*)::int AS n FROM writes WHERE id = ANY($1::uuid[])', [acks.map((a) => a.id)]),
  );
  return r.rows[0].n as number;
}

async function autoProxy(password: string, primary: PgServer, replicas: PgServer[]): Promise<TestProxy> {
  const p = await startTestProxy({
    databasesYaml: routingDatabasesYaml({ password, primary, replicas, role: 'auto' }),
  });
  started.push(p);
  return p;
}

/** A cluster of its own (failover changes servers for good) with database app and table writes everywhere. */
async function failoverCluster(replicas: number): Promise<Cluster> {
  const own = await startCluster({ shards: 1, replicasPerShard: replicas });
  stops.push(() => own.stop());
  const { primary } = own.shards[0];
  await primary.psql('CREATE DATABASE app');
  await primary.psql(tableSql, 'app');
  for (const r of own.shards[0].replicas)
    await waitFor(async () => (await r.psql("SELECT to_regclass('writes') IS NOT NULL", 'app')) === 't', {
      what: `replica ${r.port} to see table writes`,
    });
  return own;
}

/** Stops the primary, promotes `next`, and starts the old primary again as a standalone (writable) server. */
async function failOver(old: PgServer, next: PgServer): Promise<number> {
  await old.stop();
  const stoppedAt = Date.now();
  await next.promote();
  return stoppedAt;
}

async function startStandalone(old: PgServer): Promise<void> {
  await old.restart();
  expect(await old.psql('SELECT pg_is_in_recovery()')).toBe('f');
}

describe('role: auto after a failover', () => {
  it('sends no write to the old primary back on an older timeline, from a running or a new proxy', async () => {
    const own = await failoverCluster(2);
    const { primary: old, replicas } = own.shards[0];
    const [promoted, follower] = replicas;
    const p1 = await autoProxy(own.password, old, replicas);
    const w1 = new BoundedWrites(p1.client(), 'p1');
    let w2: BoundedWrites | null = null;
    let stoppedAt: number;
    try {
      await waitFor(() => w1.on(old.port).length >= 10, { what: 'writes to the first primary' });
      stoppedAt = await failOver(old, promoted);
      await waitFor(() => w1.on(promoted.port).length >= 10, {
        what: 'writes to reach the promoted server',
        timeoutMs: 15_000,
      });
      await startStandalone(old);
      const p2 = await autoProxy(own.password, old, replicas);
      w2 = new BoundedWrites(p2.client(), 'p2');
      const before = w1.on(promoted.port).length;
      await waitFor(() => w2!.on(promoted.port).length >= 50 && w1.on(promoted.port).length >= before + 50, {
        what: 'both proxies to write 50 rows after the old primary came back',
        timeoutMs: 30_000,
      });
    } finally {
      await w1.stop();
      await w2?.stop();
    }
    const onOld = await rowsOn(old, stoppedAt);
    const onNew = await rowsOn(promoted, 0);
    console.info(
      `failover: old primary holds ${onOld.total} rows (${onOld.since} written after it stopped), ` +
        `promoted server ${onNew.total}; acknowledged p1 ${w1.acked.length}, p2 ${w2!.acked.length}`,
    );
    expect(onOld.since).toBe(0);
    expect(w1.acked.filter((a) => a.port !== old.port && a.port !== promoted.port)).toEqual([]);
    expect(w2!.acked.filter((a) => a.port !== promoted.port)).toEqual([]);
    expect(w1.on(follower.port)).toEqual([]);
    const afterFailover = [...w1.on(promoted.port), ...w2!.acked];
    expect(await presentOn(promoted, afterFailover)).toBe(afterFailover.length);
    // The election is on record where every instance and the replicas find it.
    const record = await promoted.psql(
      'SELECT timeline, host FROM polyproxy.primary_epoch ORDER BY timeline',
      'app',
    );
    expect(record.split('\n')).toEqual([`1|127.0.0.1:${old.port}`, `2|127.0.0.1:${promoted.port}`]);
  }, 120_000);

  it('does not switch back to the old primary while the promoted server is frozen for 3 s', async () => {
    const own = await failoverCluster(1);
    const { primary: old, replicas } = own.shards[0];
    const [promoted] = replicas;
    const p = await autoProxy(own.password, old, replicas);
    const stoppedAt = await failOver(old, promoted);
    await startStandalone(old);
    // Clients that give up on a write after 500 ms and reconnect keep new writes coming during the freeze.
    const writers = [1, 2, 3].map((i) => new BoundedWrites(p.client(), `frozen-${i}`, 500));
    const acked = () => writers.flatMap((w) => w.acked);
    const attempts = () => writers.reduce((n, w) => n + w.acked.length + w.errors.length, 0);
    let frozen: number[] = [];
    try {
      await waitFor(() => acked().filter((a) => a.port === promoted.port).length >= 30, {
        what: 'writes to reach the promoted server',
      });
      const pid = Number((await readFile(join(promoted.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      frozen = processTree(pid);
      for (const q of frozen) process.kill(q, 'SIGSTOP');
      const attemptsBefore = attempts();
      await sleep(3000);
      for (const q of frozen.splice(0)) process.kill(q, 'SIGCONT');
      const attemptsFrozen = attempts() - attemptsBefore;
      const resumed = acked().length;
      await waitFor(() => acked().length >= resumed + 30, {
        what: 'writes to resume on the promoted server',
        timeoutMs: 20_000,
      });
      const codes = writers.flatMap((w) => w.errors.map((e) => e.code ?? e.message));
      console.info(
        `freeze: ${attemptsFrozen} write attempts ended during the freeze; errors ${JSON.stringify([...tally(codes)])}`,
      );
    } finally {
      for (const q of frozen) process.kill(q, 'SIGCONT');
      await Promise.all(writers.map((w) => w.stop()));
    }
    const onOld = await rowsOn(old, stoppedAt);
    console.info(
      `freeze: acknowledged ${acked().length}; the old primary got ${onOld.since} after it stopped`,
    );
    expect(onOld.since).toBe(0);
    expect(acked().filter((a) => a.port !== promoted.port)).toEqual([]);
    expect(await presentOn(promoted, acked())).toBe(acked().length);
  }, 120_000);

  it('a proxy started while the promoted server is down learns its timeline from the epoch record on a replica', async () => {
    const own = await failoverCluster(2);
    const { primary: old, replicas } = own.shards[0];
    const [promoted, follower] = replicas;
    const stoppedAt = await failOver(old, promoted);
    // The operator points the other replica at the promoted server; it follows the new timeline.
    const conninfo = await follower.psql('SHOW primary_conninfo');
    const repointed = conninfo.replace(/port=\d+/, `port=${promoted.port}`).replace(/'/g, "''");
    await follower.psql(`ALTER SYSTEM SET primary_conninfo = '${repointed}'`);
    await follower.psql('SELECT pg_reload_conf()');
    await startStandalone(old);
    const p1 = await autoProxy(own.password, old, replicas);
    await withClient(p1.client(), (c) => c.query("INSERT INTO writes (via) VALUES ('p1')"));
    await waitFor(
      async () =>
        (await follower
          .psql('SELECT count(*) FROM polyproxy.primary_epoch WHERE timeline = 2', 'app')
          .catch(() => '0')) === '1',
      { what: 'the epoch record to reach the repointed replica', timeoutMs: 30_000 },
    );
    await promoted.stop();

    const p2 = await autoProxy(own.password, old, replicas);
    await withClient(p2.client(), async (c) => {
      for (let i = 0; i < 5; i++) {
        const err = await rejection(c.query("INSERT INTO writes (via) VALUES ('p2')"));
        expect(err.code).toBe('08006');
        expect(err.message).toContain(
          `127.0.0.1:${old.port} is on timeline 1, older than timeline 2 (where 127.0.0.1:${promoted.port} was chosen)`,
        );
      }
      const read = await c.query('SELECT inet_server_port() AS port');
      expect(read.rows[0].port).toBe(follower.port);
    });
    expect((await rowsOn(old, stoppedAt)).since).toBe(0);
  }, 120_000);

  it('refuses writes when two writable hosts are on the same timeline, and reads still use a replica', async () => {
    const baseDir = await mkdtemp(join(tmpdir(), 'polyproxy-split-'));
    stops.push(() => rm(baseDir, { recursive: true, force: true, maxRetries: 5 }));
    const password = 'split-secret';
    const a = await startPrimary({ baseDir, password });
    stops.push(() => a.stop());
    const b = await startPrimary({ baseDir, password });
    stops.push(() => b.stop());
    for (const s of [a, b]) {
      await s.psql('CREATE DATABASE app');
      await s.psql(tableSql, 'app');
    }
    const replica = await startReplica(a, { baseDir });
    stops.push(() => replica.stop());
    await waitFor(
      async () => (await replica.psql("SELECT to_regclass('writes') IS NOT NULL", 'app')) === 't',
      {
        what: 'the replica to see table writes',
      },
    );
    const p = await autoProxy(password, a, [b, replica]);
    await withClient(p.client(), async (c) => {
      for (let i = 0; i < 5; i++) {
        const err = await rejection(c.query("INSERT INTO writes (via) VALUES ('split')"));
        expect(err.code).toBe('57P03');
        expect(err.message).toBe(
          `two hosts claim to be primary on timeline 1: 127.0.0.1:${a.port} (replicas streaming from it: ` +
            `127.0.0.1:${replica.port}) and 127.0.0.1:${b.port}; writes are refused until only one of them accepts writes`,
        );
      }
      const read = await c.query('SELECT inet_server_port() AS port');
      expect(read.rows[0].port).toBe(replica.port);
    });
    for (const s of [a, b]) expect((await rowsOn(s, 0)).total).toBe(0);

    // Once only one of them accepts writes, it is the primary again.
    await b.stop();
    await waitFor(
      () =>
        withClient(p.client(), async (c) => {
          const r = await c.query(
            "INSERT INTO writes (via) VALUES ('after') RETURNING inet_server_port() AS port",
          );
          return r.rows[0].port === a.port;
        }).catch(() => false),
      { what: 'writes to reach the one writable host', timeoutMs: 15_000 },
    );
    expect((await rowsOn(a, 0)).total).toBe(1);
  }, 120_000);
});
