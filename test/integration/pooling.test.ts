// Pool behaviour under real clients: queueing, acquire timeouts, pinning, resets and per-client settings.
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/sandbox/wait.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { RawConnection, bind, execute, flush, parse, types } from './helpers/raw-client.js';
import { connect, rejection, withClient } from './helpers/tools.js';
import * as fe from '../../src/protocol/frontend-messages.js';

const started: TestProxy[] = [];
async function proxyWith(opts: Parameters<typeof startTestProxy>[0]): Promise<TestProxy> {
  const p = await startTestProxy(opts);
  started.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.close()));
});

beforeAll(async () => {
  await withClient(directConfig(), (c) =>
    c.query(`
      DROP TABLE IF EXISTS pool_events, pool_counter;
      CREATE TABLE pool_events (client int, n int);
      CREATE TABLE pool_counter (id int PRIMARY KEY, value int);
      INSERT INTO pool_counter VALUES (1, 0);
    `),
  );
});

afterAll(async () => {
  await withClient(directConfig(), (c) => c.query('DROP TABLE IF EXISTS pool_events, pool_counter'));
});

const backendPid = async (c: pg.Client) =>
  (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;

/** Drops the client's TCP connection without a Terminate message, like a crashed client. */
function crash(c: pg.Client): void {
  (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
}

describe('transaction pool queueing', () => {
  it('serves 30 clients running transactions over 2 server connections', async () => {
    const proxy = await proxyWith({ poolSize: 2 });
    const clients = await Promise.all(Array.from({ length: 30 }, () => connect(proxy.client())));
    try {
      await Promise.all(
        clients.map(async (c, k) => {
          for (let n = 0; n < 5; n++) {
            await c.query('BEGIN');
            await c.query('INSERT INTO pool_events VALUES ($1, $2)', [k, n]);
            await c.query('UPDATE pool_counter SET value = value + 1 WHERE id = 1');
            const mine = await c.query('SELECT count(*)::int AS n FROM pool_events WHERE client = $1', [k]);
            expect(mine.rows[0].n).toBe(n + 1);
            await c.query('COMMIT');
          }
        }),
      );
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    await withClient(directConfig(), async (d) => {
      expect((await d.query('SELECT value FROM pool_counter WHERE id = 1')).rows).toEqual([{ value: 150 }]);
      expect((await d.query('SELECT count(DISTINCT (client, n))::int AS n FROM pool_events')).rows).toEqual([
        { n: 150 },
      ]);
      const backends = await d.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'app' AND usename = 'postgres' AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
      );
      expect(backends.rows[0].n).toBeLessThanOrEqual(2);
    });
  });

  it('answers a waiting client with 53300 and advice after acquire_timeout, then serves it once a slot frees', async () => {
    const proxy = await proxyWith({ poolSize: 1, acquireTimeout: '300ms' });
    const [holder, waiter] = await Promise.all([connect(proxy.client()), connect(proxy.client())]);
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1');
      const simple = await rejection(waiter.query('SELECT 1'));
      expect(simple.code).toBe('53300');
      expect(simple.message).toMatch(/raise pool\.size or pool\.acquire_timeout/);
      const extended = await rejection(waiter.query('SELECT $1::int AS v', [1]));
      expect(extended.code).toBe('53300');
      await holder.query('COMMIT');
      expect((await waiter.query('SELECT $1::int AS v', [5])).rows).toEqual([{ v: 5 }]);
      expect((await waiter.query('SELECT 6 AS v')).rows).toEqual([{ v: 6 }]);
    } finally {
      await Promise.all([holder.end(), waiter.end()]);
    }
  });
  it('answers every pipelined request that timed out waiting for a connection with its own error', async () => {
    const proxy = await proxyWith({ poolSize: 1, acquireTimeout: '300ms' });
    const holder = await connect(proxy.client());
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1');
      const { conn } = await RawConnection.login(proxy.port, {
        user: 'app',
        password: 'app-secret',
        database: 'app',
      });
      conn.write(Buffer.concat([fe.query('SELECT 1'), fe.query('SELECT 2'), fe.query('SELECT 3')]));
      const replies = [
        ...(await conn.untilReady()),
        ...(await conn.untilReady()),
        ...(await conn.untilReady()),
      ];
      expect(types(replies)).toBe('EZEZEZ');
      conn.write(
        Buffer.concat([
          parse('', 'SELECT 1'),
          bind('', ''),
          execute(),
          fe.sync,
          parse('', 'SELECT 2'),
          bind('', ''),
          execute(),
          fe.sync,
        ]),
      );
      const extended = [...(await conn.untilReady()), ...(await conn.untilReady())];
      expect(types(extended)).toBe('EZEZ');
      conn.end();
    } finally {
      await holder.query('COMMIT');
      await holder.end();
    }
  });
});

describe('LISTEN under transaction pooling', () => {
  it('delivers a NOTIFY to the listening client, which stays pinned while others keep using the pool', async () => {
    const proxy = await proxyWith({ poolSize: 2 });
    const [listener, notifier] = await Promise.all([connect(proxy.client()), connect(proxy.client())]);
    try {
      const received: { channel: string; payload?: string }[] = [];
      listener.on('notification', (n) => received.push({ channel: n.channel, payload: n.payload }));
      await listener.query('LISTEN pool_channel');
      await Promise.all(
        Array.from({ length: 5 }, () =>
          withClient(proxy.client(), async (o) => {
            for (let i = 0; i < 10; i++) await o.query('SELECT $1::int', [i]);
          }),
        ),
      );
      await notifier.query("NOTIFY pool_channel, 'first'");
      await notifier.query("SELECT pg_notify('pool_channel', 'second')");
      await waitFor(() => received.length >= 2, {
        what: 'two notifications',
        timeoutMs: 5000,
        intervalMs: 20,
      });
      expect(received).toEqual([
        { channel: 'pool_channel', payload: 'first' },
        { channel: 'pool_channel', payload: 'second' },
      ]);
    } finally {
      await Promise.all([listener.end(), notifier.end()]);
    }
  });
});

describe('session pool reset', () => {
  it('gives the next client of a 1-connection session pool a clean server session', async () => {
    const proxy = await proxyWith({ sessPoolSize: 1 });
    const first = await connect(proxy.client('app', 'sess'));
    const pid = await backendPid(first);
    await first.query("SET work_mem = '77MB'");
    await first.query("SET application_name = 'left-behind'");
    await first.query('CREATE TEMP TABLE sess_leftover (x int)');
    await first.query('PREPARE sess_stmt AS SELECT 1');
    await first.query('LISTEN sess_channel');
    await first.query('SELECT pg_advisory_lock(4242)');
    await first.end();

    await withClient(proxy.client('app', 'sess'), async (second) => {
      expect(await backendPid(second)).toBe(pid);
      const r = await second.query(`SELECT current_setting('work_mem') AS work_mem,
        current_setting('application_name') AS app,
        to_regclass('pg_temp.sess_leftover') IS NULL AS no_temp,
        (SELECT count(*)::int FROM pg_prepared_statements) AS prepared,
        (SELECT count(*)::int FROM pg_listening_channels()) AS channels,
        (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks`);
      expect(r.rows).toEqual([
        { work_mem: '4MB', app: '', no_temp: true, prepared: 0, channels: 0, locks: 0 },
      ]);
    });
  });

  it('rolls back the open transaction of a session client that disconnects', async () => {
    const proxy = await proxyWith({ sessPoolSize: 1 });
    const first = await connect(proxy.client('app', 'sess'));
    await first.query('BEGIN');
    await first.query('INSERT INTO pool_events VALUES (-1, -1)');
    crash(first);
    await withClient(proxy.client('app', 'sess'), async (second) => {
      expect(
        (await second.query('SELECT count(*)::int AS n FROM pool_events WHERE client = -1')).rows,
      ).toEqual([{ n: 0 }]);
      expect((await second.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    });
  });
});

describe('transaction pool client disconnects', () => {
  for (const how of ['Terminate', 'a dropped socket'] as const) {
    it(`rolls back the open transaction of a client that leaves with ${how}, and reuses the connection`, async () => {
      const proxy = await proxyWith({ poolSize: 1 });
      const leaving = await connect(proxy.client());
      await leaving.query('BEGIN');
      await leaving.query('INSERT INTO pool_events VALUES (-2, -2)');
      const pid = await backendPid(leaving);
      if (how === 'Terminate') await leaving.end();
      else crash(leaving);
      await withClient(proxy.client(), async (next) => {
        expect(
          (await next.query('SELECT count(*)::int AS n FROM pool_events WHERE client = -2')).rows,
        ).toEqual([{ n: 0 }]);
        expect(await backendPid(next)).toBe(pid);
        await next.query('BEGIN');
        await next.query('INSERT INTO pool_events VALUES (-3, -3)');
        await next.query('COMMIT');
      });
      await withClient(directConfig(), async (d) => {
        expect((await d.query('SELECT count(*)::int AS n FROM pool_events WHERE client = -3')).rows).toEqual([
          { n: 1 },
        ]);
        await d.query('DELETE FROM pool_events WHERE client = -3');
      });
    });
  }

  it('frees the pool slot of a client that leaves while its statement runs, and stops that statement', async () => {
    const proxy = await proxyWith({ poolSize: 1 });
    const leaving = await connect(proxy.client());
    const sleeping = leaving.query('SELECT pg_sleep(30) /* pool-abandoned */').catch(() => null);
    await withClient(directConfig(), (d) =>
      waitFor(
        async () =>
          (
            await d.query(
              "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pool-abandoned%' AND pid <> pg_backend_pid()",
            )
          ).rowCount === 1,
        { what: 'the abandoned statement to run', timeoutMs: 10_000, intervalMs: 20 },
      ),
    );
    crash(leaving);
    await sleeping;
    await withClient(proxy.client(), async (next) => {
      expect((await next.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    });
    await withClient(directConfig(), (d) =>
      waitFor(
        async () =>
          (
            await d.query(
              "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pool-abandoned%' AND pid <> pg_backend_pid()",
            )
          ).rowCount === 0,
        { what: 'the abandoned statement to stop', timeoutMs: 10_000, intervalMs: 50 },
      ),
    );
  });

  it('does not commit the unsynced extended-protocol work of a client that disconnects', async () => {
    // Control: PostgreSQL itself discards an implicit transaction whose Sync never came.
    const ctx = directConfig();
    const direct = await RawConnection.login(ctx.port!, {
      user: ctx.user!,
      password: ctx.password as string,
      database: 'app',
    });
    direct.conn.write(
      Buffer.concat([parse('', 'INSERT INTO pool_events VALUES (-4, 1)'), bind('', ''), execute(), flush]),
    );
    const directReply = [await direct.conn.next(), await direct.conn.next(), await direct.conn.next()];
    expect(types(directReply.map((m) => m!))).toBe('12C');
    direct.conn.destroy();

    const proxy = await proxyWith({ poolSize: 1 });
    const { conn } = await RawConnection.login(proxy.port, {
      user: 'app',
      password: 'app-secret',
      database: 'app',
    });
    conn.write(
      Buffer.concat([parse('', 'INSERT INTO pool_events VALUES (-4, 2)'), bind('', ''), execute(), flush]),
    );
    const reply = [await conn.next(), await conn.next(), await conn.next()];
    expect(types(reply.map((m) => m!))).toBe('12C');
    conn.destroy();

    await withClient(proxy.client(), async (next) => {
      await next.query('SELECT 1');
      // Neither the direct row (n = 1) nor the proxied one (n = 2) may have been committed.
      const r = await next.query('SELECT n FROM pool_events WHERE client = -4 ORDER BY n');
      expect(r.rows).toEqual([]);
    });
  });
});

describe('session settings under transaction pooling', () => {
  it("carries a client's SET application_name and TimeZone to every server connection it gets, and to no other client", async () => {
    const proxy = await proxyWith({ poolSize: 2 });
    const setter = await connect(proxy.client());
    const others = await Promise.all(
      Array.from({ length: 3 }, (_, k) => connect({ ...proxy.client(), application_name: `other${k}` })),
    );
    try {
      await setter.query("SET application_name = 'setter'");
      await setter.query("SET TimeZone = 'Asia/Tokyo'");
      const setterPids = new Set<number>();
      const otherPids = new Set<number>();
      const settings =
        "SELECT current_setting('application_name') AS app, current_setting('TimeZone') AS tz, pg_backend_pid() AS pid";
      await Promise.all([
        (async () => {
          for (let i = 0; i < 40; i++) {
            const r = (await setter.query(settings)).rows[0];
            expect([r.app, r.tz]).toEqual(['setter', 'Asia/Tokyo']);
            setterPids.add(r.pid);
          }
        })(),
        ...others.map(async (o, k) => {
          const ownTz = (await o.query("SELECT current_setting('TimeZone') AS tz")).rows[0].tz;
          expect(ownTz).not.toBe('Asia/Tokyo');
          for (let i = 0; i < 40; i++) {
            const r = (await o.query(settings)).rows[0];
            expect([r.app, r.tz]).toEqual([`other${k}`, ownTz]);
            otherPids.add(r.pid);
          }
        }),
      ]);
      expect(setterPids.size).toBe(2);
      expect(otherPids.size).toBe(2);
      await setter.query('RESET TimeZone');
      const after = await Promise.all(others.map((o) => o.query("SELECT current_setting('TimeZone') AS tz")));
      const reset = (await setter.query("SELECT current_setting('TimeZone') AS tz")).rows[0].tz;
      expect(reset).toBe(after[0].rows[0].tz);
    } finally {
      await Promise.all([setter.end(), ...others.map((o) => o.end())]);
    }
  });

  it('forgets a SET that was rolled back or was SET LOCAL once the transaction ends', async () => {
    const proxy = await proxyWith({ poolSize: 2 });
    const [client, hog] = await Promise.all([
      connect({ ...proxy.client(), application_name: 'original' }),
      connect(proxy.client()),
    ]);
    try {
      const settings = "SELECT current_setting('application_name') AS app, current_setting('TimeZone') AS tz";
      const initial = (await client.query(settings)).rows[0];
      await client.query('BEGIN');
      await client.query("SET application_name = 'rolled-back'");
      await client.query("SET LOCAL TimeZone = 'Pacific/Auckland'");
      expect((await client.query(settings)).rows[0]).toEqual({ app: 'rolled-back', tz: 'Pacific/Auckland' });
      await client.query('ROLLBACK');
      for (let i = 0; i < 4; i++) {
        if (i % 2 === 0) await hog.query('BEGIN');
        else await hog.query('COMMIT');
        expect((await client.query(settings)).rows[0]).toEqual(initial);
      }
      await client.query('BEGIN');
      await client.query("SET LOCAL application_name = 'local-only'");
      await client.query('COMMIT');
      expect((await client.query(settings)).rows[0]).toEqual(initial);
    } finally {
      await Promise.all([client.end(), hog.end()]);
    }
  });

  it('reports the parameter status changes of a SET to the client like PostgreSQL', async () => {
    const proxy = await proxyWith({ poolSize: 2 });
    const { conn } = await RawConnection.login(proxy.port, {
      user: 'app',
      password: 'app-secret',
      database: 'app',
    });
    conn.write(fe.query("SET TimeZone = 'Europe/Paris'"));
    const reply = await conn.untilReady();
    const status = reply.find((m) => m.type === 'S');
    expect(status?.body.toString('utf8')).toBe('TimeZone\0Europe/Paris\0');
    conn.end();
  });
});

describe('session state under transaction pooling', () => {
  it('keeps a temp table, a SQL PREPARE and a WITH HOLD cursor usable while other clients share the pool', async () => {
    const proxy = await proxyWith({ poolSize: 2 });
    const owner = await connect(proxy.client());
    const others = await Promise.all(Array.from({ length: 3 }, () => connect(proxy.client())));
    try {
      await owner.query('CREATE TEMP TABLE pin_temp AS SELECT generate_series(1, 10) AS x');
      await owner.query('PREPARE pin_stmt(int) AS SELECT sum(x)::int AS s FROM pin_temp WHERE x <= $1');
      await owner.query('DECLARE pin_cur CURSOR WITH HOLD FOR SELECT x FROM pin_temp ORDER BY x');
      const fetched: number[] = [];
      await Promise.all([
        (async () => {
          for (let i = 1; i <= 10; i++) {
            expect((await owner.query(`EXECUTE pin_stmt(${i})`)).rows).toEqual([{ s: (i * (i + 1)) / 2 }]);
            fetched.push(...(await owner.query('FETCH 1 FROM pin_cur')).rows.map((r) => r.x as number));
          }
        })(),
        ...others.map(async (o) => {
          for (let i = 0; i < 10; i++) {
            await o.query('BEGIN');
            expect((await o.query("SELECT to_regclass('pin_temp') IS NULL AS hidden")).rows).toEqual([
              { hidden: true },
            ]);
            await o.query('COMMIT');
          }
        }),
      ]);
      expect(fetched).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      await Promise.all([owner.end(), ...others.map((o) => o.end())]);
    }
  });

  it('cleans up the session state of a pinned client when it leaves', async () => {
    const proxy = await proxyWith({ poolSize: 1 });
    const pinned = await connect(proxy.client());
    const pid = await backendPid(pinned);
    await pinned.query('LISTEN leftover_channel');
    await pinned.query('CREATE TEMP TABLE leftover_temp (x int)');
    await pinned.query('SELECT pg_advisory_lock(777)');
    await pinned.end();
    await withClient(proxy.client(), async (next) => {
      const r = await next.query(`SELECT pg_backend_pid() AS pid,
        (SELECT count(*)::int FROM pg_listening_channels()) AS channels,
        to_regclass('pg_temp.leftover_temp') IS NULL AS no_temp,
        (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND objid = 777) AS locks`);
      expect(r.rows).toEqual([{ pid, channels: 0, no_temp: true, locks: 0 }]);
    });
  });

  it("does not leak a client's SET of a setting PostgreSQL does not report to other clients", async () => {
    const proxy = await proxyWith({ poolSize: 2 });
    const setter = await connect(proxy.client());
    const other = await connect(proxy.client());
    try {
      const before = (
        await other.query(
          "SELECT current_setting('statement_timeout') AS st, current_setting('work_mem') AS wm",
        )
      ).rows[0];
      await setter.query("SET statement_timeout = '1234ms'");
      await setter.query("SET work_mem = '9MB'");
      const seen = (
        await other.query(
          "SELECT current_setting('statement_timeout') AS st, current_setting('work_mem') AS wm",
        )
      ).rows[0];
      expect(seen).toEqual(before);
      const own = (
        await setter.query(
          "SELECT current_setting('statement_timeout') AS st, current_setting('work_mem') AS wm",
        )
      ).rows[0];
      expect(own).toEqual({ st: '1234ms', wm: '9MB' });
    } finally {
      await Promise.all([setter.end(), other.end()]);
    }
  });
});

describe('server connections that die', () => {
  it('replaces an idle server connection terminated by PostgreSQL', async () => {
    const proxy = await proxyWith({ poolSize: 1 });
    await withClient(proxy.client(), async (c) => {
      const pid = await backendPid(c);
      await withClient(directConfig(), async (d) => {
        await d.query('SELECT pg_terminate_backend($1)', [pid]);
        await waitFor(
          async () => (await d.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0,
          {
            what: 'the backend to exit',
            timeoutMs: 10_000,
          },
        );
      });
      expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
      expect(await backendPid(c)).not.toBe(pid);
    });
  });

  it('tells the client whose transaction lost its server connection, and keeps serving others', async () => {
    const proxy = await proxyWith({ poolSize: 2 });
    const victim = await connect(proxy.client());
    const errors: (Error & { code?: string })[] = [];
    victim.on('error', (e) => errors.push(e));
    await victim.query('BEGIN');
    const pid = await backendPid(victim);
    await withClient(directConfig(), (d) => d.query('SELECT pg_terminate_backend($1)', [pid]));
    await waitFor(() => errors.length > 0, {
      what: 'the victim to hear about it',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    expect(errors[0].code).toBe('57P01');
    await withClient(proxy.client(), async (c) => {
      for (let i = 0; i < 4; i++) expect((await c.query('SELECT $1::int AS i', [i])).rows).toEqual([{ i }]);
    });
  });
});
