// Read/write routing against a real primary with two streaming replicas (one applying WAL 400 ms late):
// which server answers each statement, read-your-writes, replica lag, session state, hints and failover.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type PgServer } from '../../src/sandbox/postgres.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import {
  ClientLoop,
  directTo,
  portOf,
  routingDatabasesYaml,
  tally,
  replicasCaughtUp,
  type RoutingDatabaseOptions,
} from './helpers/routing.js';
import { connect, rejection, sleep, withClient } from './helpers/tools.js';

let cluster: Cluster;
let primary: PgServer;
/** Streams without delay. */
let fast: PgServer;
/** recovery_min_apply_delay = 400ms. */
let delayed: PgServer;
let replicaPorts: number[];

beforeAll(async () => {
  cluster = await startCluster({ shards: 1, replicasPerShard: 2, delayedReplicaMs: 400 });
  ({
    primary,
    replicas: [fast, delayed],
  } = cluster.shards[0]);
  replicaPorts = [fast.port, delayed.port];
  await primary.psql('CREATE DATABASE app');
  for (const r of [fast, delayed]) {
    await waitFor(
      async () => (await r.psql("SELECT count(*) FROM pg_database WHERE datname = 'app'")) === '1',
      {
        what: `replica ${r.port} to see database app`,
      },
    );
  }
  await withClient(directTo(primary), (c) =>
    c.query(`
      CREATE TABLE items (id serial PRIMARY KEY, client int NOT NULL, v text);
      INSERT INTO items (client, v) SELECT 0, 'seed' || g FROM generate_series(1, 10) g;
      CREATE SEQUENCE s;
      CREATE TABLE explain_t (a int);
      CREATE SCHEMA someschema;
      CREATE TABLE someschema.only_here (id int);
      INSERT INTO someschema.only_here VALUES (1), (2), (3);
    `),
  );
  await replicasCaughtUp(cluster.shards[0]);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

const started: TestProxy[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.close()));
});

/** A proxy whose database `app` routes over the test cluster. */
async function routingProxy(opts: Partial<RoutingDatabaseOptions> = {}): Promise<TestProxy> {
  const p = await startTestProxy({
    databasesYaml: routingDatabasesYaml({
      password: cluster.password,
      primary,
      replicas: [fast, delayed],
      ...opts,
    }),
  });
  started.push(p);
  return p;
}

const isReplica = (port: number) => replicaPorts.includes(port);

/** Rows of `SELECT inet_server_port()` for every statement of an open transaction, in order. */
async function portsInBlock(c: pg.Client, statements: string[]): Promise<number[]> {
  const ports: number[] = [];
  for (const sql of statements) ports.push(await portOf(c, sql));
  return ports;
}

describe('statement routing', () => {
  it('sends plain SELECTs to the replicas, both of them under round_robin', async () => {
    const proxy = await routingProxy({ routing: { load_balance: 'round_robin' } });
    await withClient(proxy.client(), async (c) => {
      const simple: number[] = [];
      for (let i = 0; i < 40; i++) simple.push(await portOf(c));
      const extended: number[] = [];
      for (let i = 0; i < 20; i++)
        extended.push(await portOf(c, 'SELECT inet_server_port() AS port, $1::int AS n', [i]));
      const joined: number[] = [];
      for (let i = 0; i < 10; i++)
        joined.push(
          await portOf(c, 'SELECT inet_server_port() AS port, count(*) FROM items WHERE id > $1', [i]),
        );
      for (const ports of [simple, extended, joined]) {
        expect(ports.every(isReplica), `ports ${ports.join(',')}`).toBe(true);
        const counts = tally(ports);
        // Round robin over two healthy replicas: both serve a fair share.
        for (const r of replicaPorts) expect(counts.get(r) ?? 0).toBeGreaterThanOrEqual(ports.length / 4);
      }
    });
  });

  it('routes each unnamed Parse by its own text when reads and writes of equal length alternate', async () => {
    const proxy = await routingProxy({ routing: { read_your_writes: false } });
    await withClient(proxy.client(), async (c) => {
      const read = 'SELECT inet_server_port() AS port FROM items WHERE id > $1 LIMIT 1';
      const write = 'UPDATE items SET v = v WHERE id = $1 RETURNING inet_server_port() AS port';
      const width = Math.max(read.length, write.length);
      // Trailing blanks make both texts the same number of bytes: only their content tells them apart.
      const [r, w] = [read.padEnd(width), write.padEnd(width)];
      const { rows } = await c.query('SELECT min(id) AS id FROM items');
      const id = rows[0].id as number;
      for (let i = 0; i < 6; i++) {
        expect(isReplica(await portOf(c, r, [0]))).toBe(true);
        expect(await portOf(c, w, [id])).toBe(primary.port);
        expect(await portOf(c, w, [id])).toBe(primary.port);
        expect(isReplica(await portOf(c, r, [0]))).toBe(true);
      }
    });
  });

  it('sends writes, locking reads, writable CTEs, nextval, advisory locks, DDL and unparseable SQL to the primary', async () => {
    const proxy = await routingProxy();
    await withClient(proxy.client(), async (c) => {
      const P = primary.port;
      expect(
        await portOf(c, "INSERT INTO items (client, v) VALUES (1, 'w') RETURNING inet_server_port() AS port"),
      ).toBe(P);
      expect(
        await portOf(
          c,
          'INSERT INTO items (client, v) VALUES ($1, $2) RETURNING inet_server_port() AS port',
          [1, 'x'],
        ),
      ).toBe(P);
      expect(
        await portOf(c, "UPDATE items SET v = 'u' WHERE id = 1 RETURNING inet_server_port() AS port"),
      ).toBe(P);
      expect(
        await portOf(
          c,
          "DELETE FROM items WHERE client = 1 AND v = 'x' RETURNING inet_server_port() AS port",
        ),
      ).toBe(P);
      expect(await portOf(c, 'SELECT inet_server_port() AS port FROM items WHERE id = 1 FOR UPDATE')).toBe(P);
      expect(
        await portOf(c, 'SELECT inet_server_port() AS port FROM items WHERE id = $1 FOR SHARE', [2]),
      ).toBe(P);
      expect(
        await portOf(
          c,
          "WITH x AS (INSERT INTO items (client, v) VALUES (1, 'cte') RETURNING 1) SELECT inet_server_port() AS port FROM x",
        ),
      ).toBe(P);
      expect(await portOf(c, "SELECT inet_server_port() AS port, nextval('s')")).toBe(P);
      expect(await portOf(c, 'SELECT inet_server_port() AS port, pg_advisory_xact_lock(42)')).toBe(P);
      expect(
        await portOf(c, 'SELECT inet_server_port() AS port FROM (SELECT pg_try_advisory_xact_lock(7)) t'),
      ).toBe(P);

      // DDL: a replica would refuse it (25006); the table must exist on the primary afterwards.
      await c.query('CREATE TABLE created_via_proxy (id int)');
      await withClient(directTo(primary), async (d) => {
        const r = await d.query("SELECT to_regclass('public.created_via_proxy') IS NOT NULL AS present");
        expect(r.rows[0].present).toBe(true);
      });

      // Unparseable text fails everywhere; which server saw it shows in that server's log.
      const marker = `unparseable-${randomUUID()}`;
      const err = await rejection(c.query(`SELEC inet_server_port() /* ${marker} */`));
      expect(err.code).toBe('42601');
      const logs = await Promise.all(
        [primary, fast, delayed].map((s) => readFile(join(s.dataDir, 'server.log'), 'utf8')),
      );
      expect(logs.map((l) => l.includes(marker))).toEqual([true, false, false]);
    });
  });
});

describe('transactions', () => {
  it('runs a read-write transaction on the primary, every statement of it', async () => {
    const proxy = await routingProxy();
    await withClient(proxy.client(), async (c) => {
      for (let i = 0; i < 5; i++) {
        await c.query('BEGIN');
        const ports = await portsInBlock(c, [
          'SELECT inet_server_port() AS port',
          'SELECT inet_server_port() AS port FROM items WHERE id = 1',
          "INSERT INTO items (client, v) VALUES (2, 'tx') RETURNING inet_server_port() AS port",
          'SELECT inet_server_port() AS port',
        ]);
        ports.push(await portOf(c, 'SELECT inet_server_port() AS port, $1::int AS i', [i]));
        await c.query('COMMIT');
        expect(ports).toEqual(Array(ports.length).fill(primary.port));
      }
      // One simple-protocol text holding the whole block.
      const results = (await c.query(
        'BEGIN; SELECT inet_server_port() AS port; SELECT inet_server_port() AS port; COMMIT',
      )) as unknown as pg.QueryResult[];
      expect([results[1].rows[0].port, results[2].rows[0].port]).toEqual([primary.port, primary.port]);
    });
  });

  it('runs BEGIN READ ONLY on a replica, every statement on the same one', async () => {
    const proxy = await routingProxy();
    await withClient(proxy.client(), async (c) => {
      const servers: number[] = [];
      for (let i = 0; i < 10; i++) {
        await c.query(
          i % 2 === 0 ? 'BEGIN READ ONLY' : 'START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY',
        );
        const ports = await portsInBlock(c, [
          'SELECT inet_server_port() AS port',
          'SELECT inet_server_port() AS port FROM items LIMIT 1',
          'SELECT inet_server_port() AS port',
        ]);
        ports.push(await portOf(c, 'SELECT inet_server_port() AS port, $1::int AS i', [i]));
        ports.push(await portOf(c, 'SELECT inet_server_port() AS port'));
        await c.query('COMMIT');
        expect(new Set(ports).size, `ports ${ports.join(',')}`).toBe(1);
        expect(isReplica(ports[0])).toBe(true);
        servers.push(ports[0]);
      }
      // Successive read-only transactions are spread over the replicas.
      expect(new Set(servers)).toEqual(new Set(replicaPorts));
      // A standby cannot run serializable transactions: those go to the primary even when read-only.
      await c.query('BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY');
      const ports = await portsInBlock(c, [
        'SELECT inet_server_port() AS port',
        'SELECT inet_server_port() AS port',
      ]);
      await c.query('COMMIT');
      expect(ports).toEqual([primary.port, primary.port]);
    });
  });
});

describe('read-your-writes', () => {
  it('lets a writer read its own row at once, while a client that never wrote keeps reading replicas', async () => {
    // Per connection: the reader's reads need not see the writer's writes (see read-your-writes-scope.test.ts).
    const proxy = await routingProxy({ routing: { read_your_writes: 'connection' } });
    const writer = await connect(proxy.client());
    // The other client reads all along.
    const reader = new ClientLoop(
      proxy.client(),
      (c) => portOf(c, 'SELECT inet_server_port() AS port, count(*) FROM items'),
      5,
    );
    try {
      const immediate: { port: number; seen: boolean }[] = [];
      for (let i = 0; i < 100; i++) {
        const { rows } = await writer.query('INSERT INTO items (client, v) VALUES (3, $1) RETURNING id', [
          `ryw${i}`,
        ]);
        const r = await writer.query(
          'SELECT inet_server_port() AS port, count(*)::int AS n FROM items WHERE id = $1',
          [rows[0].id],
        );
        immediate.push({ port: r.rows[0].port, seen: r.rows[0].n === 1 });
      }
      // Reads some time after the write: a replica that has replayed the write may serve them.
      const later: { port: number; seen: boolean; gap: number }[] = [];
      for (let i = 0; i < 30; i++) {
        const { rows } = await writer.query("INSERT INTO items (client, v) VALUES (3, 'later') RETURNING id");
        const gap = (i * 37) % 800;
        await sleep(gap);
        const r = await writer.query(
          `SELECT inet_server_port() AS port, count(*)::int AS n FROM items WHERE id = ${rows[0].id}`,
        );
        later.push({ port: r.rows[0].port, seen: r.rows[0].n === 1, gap });
      }
      await reader.stop();
      const readerPorts = reader.values();

      const share = (xs: { port: number }[], port: number) =>
        xs.filter((x) => x.port === port).length / xs.length;
      const describeShare = (xs: { port: number }[]) =>
        `primary ${share(xs, primary.port).toFixed(2)}, fast replica ${share(xs, fast.port).toFixed(2)}, delayed replica ${share(xs, delayed.port).toFixed(2)}`;
      console.info(`read-your-writes, immediate reads (n=${immediate.length}): ${describeShare(immediate)}`);
      console.info(
        `read-your-writes, reads 0-800 ms after the write (n=${later.length}): ${describeShare(later)}`,
      );
      console.info(
        `read-your-writes, non-writing client (n=${readerPorts.length}): ${describeShare(readerPorts.map((port) => ({ port })))}`,
      );

      expect(immediate.filter((x) => !x.seen)).toEqual([]);
      expect(later.filter((x) => !x.seen)).toEqual([]);
      expect(reader.errors().map((o) => o.error?.message)).toEqual([]);
      expect(readerPorts.length).toBeGreaterThan(20);
      expect(readerPorts.filter((p) => !isReplica(p))).toEqual([]);

      // A while after its last write, the writer's reads go back to the replicas.
      await sleep(1200);
      const after: number[] = [];
      for (let i = 0; i < 50; i++)
        after.push(await portOf(writer, 'SELECT inet_server_port() AS port, count(*) FROM items'));
      const onReplicas = after.filter(isReplica).length / after.length;
      console.info(
        `read-your-writes, writer's reads > 1 s after its last write: ${(onReplicas * 100).toFixed(0)}% on replicas`,
      );
      expect(onReplicas).toBeGreaterThanOrEqual(0.8);
    } finally {
      await Promise.all([writer.end(), reader.stop()]);
    }
  });
});

describe('replica lag', () => {
  it('keeps reads off a replica lagging beyond max_replica_lag while the other replica serves them', async () => {
    // The reader never writes; with scope user it would have to see the load's writes (same user).
    const proxy = await routingProxy({
      routing: { max_replica_lag: '100ms', read_your_writes: 'connection' },
    });
    const load = new ClientLoop(
      proxy.client(),
      (c) => c.query("INSERT INTO items (client, v) VALUES (4, 'load')"),
      20,
    );
    const reader = await connect(proxy.client());
    try {
      // The delayed replica falls 400 ms behind once the load runs; give the monitor time to see it.
      await sleep(1500);
      const ports: number[] = [];
      for (let i = 0; i < 150; i++) {
        ports.push(await portOf(reader));
        await sleep(15);
      }
      const counts = tally(ports);
      console.info(
        `lag test, reads under write load (n=${ports.length}): primary ${counts.get(primary.port) ?? 0}, ` +
          `fast replica ${counts.get(fast.port) ?? 0}, delayed replica ${counts.get(delayed.port) ?? 0}`,
      );
      expect(load.errors()).toEqual([]);
      expect(load.values().length).toBeGreaterThan(50);
      expect(counts.get(delayed.port) ?? 0).toBe(0);
      expect(counts.get(fast.port) ?? 0).toBeGreaterThan(0);
      // A replica about a millisecond behind is within 100 ms of lag: it should serve most of the reads.
      expect(counts.get(fast.port) ?? 0).toBeGreaterThanOrEqual(ports.length * 0.8);
    } finally {
      await load.stop();
    }
    try {
      // Without the load the delayed replica catches up and serves reads again.
      await waitFor(
        async () => {
          const ports: number[] = [];
          for (let i = 0; i < 10; i++) ports.push(await portOf(reader));
          return ports.includes(delayed.port);
        },
        { what: 'the delayed replica to serve reads again', timeoutMs: 15_000 },
      );
    } finally {
      await reader.end();
    }
  });
});

describe('session state under transaction pooling', () => {
  it('replays SET search_path on every server connection a client gets, without leaking it', async () => {
    const proxy = await routingProxy({ poolSize: 2 });
    const setters = await Promise.all(Array.from({ length: 4 }, () => connect(proxy.client())));
    // A client that never sets search_path reads all along, on the same server connections.
    const other = new ClientLoop(
      proxy.client(),
      async (c) => {
        const missing = await c.query('SELECT count(*) FROM only_here').then(
          () => 'found',
          (err: { code?: string }) => err.code,
        );
        const shown = (await c.query('SHOW search_path')).rows[0].search_path as string;
        return `${missing} ${shown}`;
      },
      0,
    );
    try {
      await Promise.all(setters.map((c) => c.query('SET search_path TO someschema, public')));
      const readPorts: number[] = [];
      await Promise.all(
        setters.map(async (c) => {
          for (let i = 0; i < 15; i++) {
            const r = await c.query('SELECT inet_server_port() AS port, count(*)::int AS n FROM only_here');
            expect(r.rows[0].n).toBeGreaterThanOrEqual(3);
            readPorts.push(r.rows[0].port);
            await c.query('BEGIN READ ONLY');
            const tx = await c.query('SELECT inet_server_port() AS port, count(*)::int AS n FROM only_here');
            expect(tx.rows[0].n).toBeGreaterThanOrEqual(3);
            readPorts.push(tx.rows[0].port);
            expect((await c.query('SHOW search_path')).rows[0].search_path).toBe('someschema, public');
            await c.query('COMMIT');
          }
        }),
      );
      // Writes through the unqualified name reach the table on the primary, and the writer reads them back.
      await Promise.all(
        setters.map(async (c, k) => {
          for (let i = 0; i < 3; i++) {
            const id = 1000 + k * 10 + i;
            await c.query('BEGIN');
            const w = await c.query(
              'INSERT INTO only_here VALUES ($1) RETURNING inet_server_port() AS port',
              [id],
            );
            expect(w.rows[0].port).toBe(primary.port);
            await c.query('COMMIT');
            const r = await c.query('SELECT count(*)::int AS n FROM only_here WHERE id = $1', [id]);
            expect(r.rows[0].n).toBe(1);
          }
        }),
      );
      await other.stop();
      expect(new Set(readPorts)).toEqual(new Set(replicaPorts));
      expect(other.errors().map((o) => o.error?.message)).toEqual([]);
      expect(other.values().length).toBeGreaterThan(10);
      expect(new Set(other.values())).toEqual(new Set(['42P01 "$user", public']));

      // RESET brings the default back, on every server.
      await setters[0].query('RESET search_path');
      for (let i = 0; i < 6; i++) {
        const err = await rejection(setters[0].query('SELECT count(*) FROM only_here'));
        expect(err.code).toBe('42P01');
      }
      expect((await setters[0].query('SHOW search_path')).rows[0].search_path).toBe('"$user", public');
    } finally {
      await other.stop();
      await Promise.all(setters.map((c) => c.end()));
    }
  });

  // Retried once: it relies on the round-robin spread over both replicas, which a replica check that times
  // out under a loaded machine can interrupt (seen once in ~10 full runs; the cause is not confirmed).
  it(
    'applies SET statement_timeout on whichever server runs the statement, and RESET undoes it',
    { retry: 1 },
    async () => {
      const proxy = await routingProxy({ poolSize: 2 });
      const a = await connect(proxy.client());
      let b: ClientLoop<string> | null = null;
      try {
        await a.query("SET statement_timeout = '1ms'");
        // Alone, consecutive reads alternate between the replicas (round robin).
        for (let i = 0; i < 6; i++) {
          const err = await rejection(a.query('SELECT pg_sleep(0.1)'));
          expect(err.code).toBe('57014');
        }
        const hinted = await rejection(a.query('/* polyproxy: primary */ SELECT pg_sleep(0.1)'));
        expect(hinted.code).toBe('57014');
        await a.query('BEGIN');
        const inTx = await rejection(a.query('SELECT pg_sleep(0.1)'));
        expect(inTx.code).toBe('57014');
        await a.query('ROLLBACK');
        expect((await a.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('1ms');

        // Another client shares the same server connections (pool size 2) and never sees the timeout.
        b = new ClientLoop(
          proxy.client(),
          async (c) => {
            const r = await c.query('SELECT inet_server_port() AS port, pg_sleep(0.02)');
            const shown = (await c.query('SHOW statement_timeout')).rows[0].statement_timeout as string;
            return `${isReplica(r.rows[0].port) ? 'replica' : 'primary'} ${shown}`;
          },
          0,
        );
        // Until the other client has run a good number of statements (each run of A's fails at once).
        for (let i = 0; i < 2000 && b.outcomes.length < 15; i++) {
          const err = await rejection(a.query('SELECT pg_sleep(0.1)'));
          expect(err.code).toBe('57014');
        }
        await b.stop();
        expect(b.errors().map((o) => o.error?.message)).toEqual([]);
        expect(b.values().length).toBeGreaterThanOrEqual(15);
        expect(new Set(b.values())).toEqual(new Set(['replica 0']));

        await a.query('RESET statement_timeout');
        const ports: number[] = [];
        for (let i = 0; i < 6; i++)
          ports.push(await portOf(a, 'SELECT inet_server_port() AS port, pg_sleep(0.05)'));
        expect(new Set(ports)).toEqual(new Set(replicaPorts));
        expect(
          await portOf(a, '/* polyproxy: primary */ SELECT inet_server_port() AS port, pg_sleep(0.05)'),
        ).toBe(primary.port);
        expect((await a.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('0');
      } finally {
        await b?.stop();
        await a.end();
      }
    },
  );
});

describe('routing hints', () => {
  it('follows comment hints and SET polyproxy.route, and refuses an unknown route', async () => {
    const proxy = await routingProxy();
    await withClient(proxy.client(), async (c) => {
      for (let i = 0; i < 4; i++) {
        expect(await portOf(c, '/* polyproxy: primary */ SELECT inet_server_port() AS port')).toBe(
          primary.port,
        );
        expect(await portOf(c, '-- polyproxy: primary\nSELECT inet_server_port() AS port')).toBe(
          primary.port,
        );
        expect(
          await portOf(c, '/* polyproxy: primary */ SELECT inet_server_port() AS port, $1::int AS i', [i]),
        ).toBe(primary.port);
        expect(isReplica(await portOf(c, '/* polyproxy: replica */ SELECT inet_server_port() AS port'))).toBe(
          true,
        );
        expect(isReplica(await portOf(c))).toBe(true);
      }

      const set = await c.query('SET polyproxy.route = primary');
      expect(set.command).toBe('SET');
      for (let i = 0; i < 6; i++) expect(await portOf(c)).toBe(primary.port);
      expect(await portOf(c, 'SELECT inet_server_port() AS port, $1::int AS i', [1])).toBe(primary.port);

      await c.query('SET polyproxy.route = auto');
      const ports: number[] = [];
      for (let i = 0; i < 6; i++) ports.push(await portOf(c));
      expect(new Set(ports)).toEqual(new Set(replicaPorts));

      const err = await rejection(c.query('SET polyproxy.route = bogus'));
      expect(err.code).toBe('22023');
      // The session still works and the route stayed auto.
      expect(isReplica(await portOf(c))).toBe(true);
    });
  });
});

describe('EXPLAIN ROUTE', () => {
  it('says where a statement would run without running it', async () => {
    const proxy = await routingProxy();
    await withClient(proxy.client(), async (c) => {
      const read = await c.query('EXPLAIN ROUTE SELECT 1');
      expect(read.rows).toHaveLength(1);
      const readText = Object.values(read.rows[0])[0] as string;
      const m = /^Passthrough target=replica shard=0 host=127\.0\.0\.1:(\d+) reason=\S+$/.exec(readText);
      expect(m, readText).not.toBeNull();
      expect(isReplica(Number(m![1]))).toBe(true);

      const before = await withClient(directTo(primary), (d) =>
        d.query('SELECT count(*)::int AS n FROM explain_t'),
      );
      const write = await c.query('EXPLAIN ROUTE INSERT INTO explain_t VALUES (1)');
      expect(write.rows).toHaveLength(1);
      const writeText = Object.values(write.rows[0])[0] as string;
      expect(writeText).toMatch(
        new RegExp(`^Passthrough target=primary shard=0 host=127\\.0\\.0\\.1:${primary.port} reason=\\S+$`),
      );
      const after = await withClient(directTo(primary), (d) =>
        d.query('SELECT count(*)::int AS n FROM explain_t'),
      );
      expect(after.rows[0].n).toBe(before.rows[0].n);
    });
  });
});

describe('serializable sessions', () => {
  it('keeps every statement of a client whose transactions default to serializable on the primary', async () => {
    const proxy = await routingProxy();
    await withClient(proxy.client(), async (c) => {
      const route = async () => Object.values((await c.query('EXPLAIN ROUTE SELECT 1')).rows[0])[0] as string;
      expect(await route()).toMatch(/^Passthrough target=replica /);
      await c.query('SET default_transaction_isolation = serializable');
      expect(await route()).toMatch(/^Passthrough target=primary .*reason=serializable-session$/);
      // A standby would refuse it: "cannot use serializable mode in a hot standby".
      expect((await c.query('SELECT count(*)::int AS n FROM items WHERE id = 1')).rows).toEqual([{ n: 1 }]);
      await c.query('RESET default_transaction_isolation');
      expect(await route()).toMatch(/^Passthrough target=replica /);
      await c.query('SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE');
      expect(await route()).toMatch(/^Passthrough target=primary /);
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await c.query('RESET ALL');
      expect(await route()).toMatch(/^Passthrough target=replica /);
    });
  });
});

describe('failures', () => {
  it('stops reading from a killed replica without failing later reads, and uses it again once restarted', async () => {
    const proxy = await routingProxy();
    const loops = Array.from(
      { length: 4 },
      () =>
        new ClientLoop(
          proxy.client(),
          (c) => portOf(c, 'SELECT inet_server_port() AS port, count(*) FROM items'),
          10,
        ),
    );
    const all = <T>(f: (l: ClientLoop<number>) => T[]) => loops.flatMap(f);
    const describeErrors = (
      outcomes: { startedAt: number; error?: Error & { code?: string } }[],
      t0: number,
    ) => outcomes.map((o) => `+${o.startedAt - t0}ms ${o.error?.code ?? ''} ${o.error?.message}`);
    try {
      await waitFor(() => new Set(all((l) => l.values())).size === 2, { what: 'reads on both replicas' });
      const killing = Date.now();
      await fast.kill();
      const killed = Date.now();
      // Within a few seconds every read goes to the other replica.
      await waitFor(
        () => {
          const recent = all((l) => l.lastValues(10));
          return (
            recent.length === 40 &&
            recent.every((p) => p === delayed.port) &&
            all((l) => l.values(killed)).length > 80
          );
        },
        { what: 'reads to go only to the surviving replica', timeoutMs: 20_000 },
      );
      // A read in flight on the killed server may fail (its server connection is gone), but no read may hang,
      // and none started after the kill may fail.
      const hung = all((l) => l.errors()).filter((o) => o.error?.message.includes('no answer within'));
      expect.soft(describeErrors(hung, killing), 'reads that never got an answer').toEqual([]);
      expect
        .soft(
          describeErrors(
            all((l) => l.errors(killed)),
            killing,
          ),
          'reads started after the kill',
        )
        .toEqual([]);
      const inFlight = all((l) => l.errors(killing)).filter((o) => o.startedAt < killed);
      expect(inFlight.length).toBeLessThanOrEqual(loops.length);

      await fast.restart();
      const restarted = Date.now();
      await waitFor(() => all((l) => l.values(restarted)).includes(fast.port), {
        what: 'the restarted replica to serve reads again',
        timeoutMs: 30_000,
      });
      expect(all((l) => l.values(restarted)).every(isReplica)).toBe(true);
      expect(
        describeErrors(
          all((l) => l.errors(killed)),
          killing,
        ),
        'reads after the kill',
      ).toEqual([]);
    } finally {
      await Promise.all(loops.map((l) => l.stop()));
    }
  }, 120_000);

  it('sends writes to a promoted replica after the primary stops (role: auto), never to a host in recovery', async () => {
    // Its own cluster: promoting changes the servers for good.
    const own = await startCluster({ shards: 1, replicasPerShard: 2 });
    try {
      const servers = own.shards[0];
      const [promoted, follower] = servers.replicas;
      await servers.primary.psql('CREATE DATABASE app');
      await withClient(directTo(servers.primary), (c) =>
        c.query('CREATE TABLE failover_log (id serial PRIMARY KEY, port int NOT NULL)'),
      );
      for (const r of servers.replicas)
        await waitFor(
          async () => (await r.psql("SELECT to_regclass('failover_log') IS NOT NULL", 'app')) === 't',
          {
            what: `replica ${r.port} to see failover_log`,
          },
        );
      const p = await startTestProxy({
        databasesYaml: routingDatabasesYaml({ password: own.password, ...servers, role: 'auto' }),
      });
      started.push(p);

      const writes = new ClientLoop(
        p.client(),
        (c) => portOf(c, 'INSERT INTO failover_log (port) VALUES (inet_server_port()) RETURNING port'),
        20,
      );
      try {
        await waitFor(() => writes.values().length >= 10, { what: 'writes to the first primary' });
        expect(new Set(writes.values())).toEqual(new Set([servers.primary.port]));

        await servers.primary.stop();
        await promoted.promote();
        const promotedAt = Date.now();
        await waitFor(() => writes.values(promotedAt).filter((port) => port === promoted.port).length >= 10, {
          what: 'writes to reach the promoted replica',
          timeoutMs: 10_000,
        });
        const ports = new Set(writes.values());
        expect(ports.has(follower.port)).toBe(false);
        expect([...ports].sort()).toEqual([servers.primary.port, promoted.port].sort());
        // 25006: read-only transaction, what a host in recovery answers to a write.
        expect(writes.errors().filter((o) => o.error?.code === '25006')).toEqual([]);
        // Once writes reach the new primary they keep succeeding there.
        const firstOnNew = writes.outcomes.findIndex((o) => o.value === promoted.port);
        expect(writes.outcomes.slice(firstOnNew).filter((o) => o.error)).toEqual([]);
        const errorCodes = tally(writes.errors().map((o) => o.error?.code));
        console.info(`failover: errors during the switch by SQLSTATE: ${JSON.stringify([...errorCodes])}`);
      } finally {
        await writes.stop();
      }
      const rows = await withClient(directTo(promoted), (c) =>
        c.query('SELECT port, count(*)::int AS n FROM failover_log GROUP BY port ORDER BY port'),
      );
      expect(rows.rows.map((r) => r.port).sort()).toEqual([servers.primary.port, promoted.port].sort());
    } finally {
      await Promise.all(started.splice(0).map((x) => x.close()));
      await own.stop();
    }
  }, 120_000);
});
