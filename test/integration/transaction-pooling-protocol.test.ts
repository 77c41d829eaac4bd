// Transaction pooling that drivers cannot tell from PostgreSQL: each shape runs through a 1-connection pool
// and directly on PostgreSQL, and the two clients' replies must be the same.
import type pg from 'pg';
import { inject } from 'vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import {
  RawConnection,
  bind,
  describe as describeMsg,
  errorFields,
  execute,
  parse,
  query,
  sync,
  type BackendMessage,
} from './helpers/raw-client.js';
import { connect, runTool, withClient } from './helpers/tools.js';
import { waitFor } from '../../src/sandbox/wait.js';
import * as fe from '../../src/protocol/frontend-messages.js';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { createAppDatabase, shardedDatabasesYaml } from './sharding-helpers.js';
import './helpers/context.js';

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
    c.query(
      `DROP TABLE IF EXISTS tpp_shape; CREATE TABLE tpp_shape (id int PRIMARY KEY); INSERT INTO tpp_shape VALUES (1)`,
    ),
  );
});
afterAll(async () => {
  await withClient(directConfig(), (c) => c.query('DROP TABLE IF EXISTS tpp_shape'));
});

/** A reply as a comparable line: message types, data of each row, SQLSTATE and tag of each error/command. */
function transcript(messages: BackendMessage[]): string {
  return messages
    .map((m) => {
      if (m.type === 'D') {
        const n = m.body.readInt16BE(0);
        const cells: string[] = [];
        let pos = 2;
        for (let i = 0; i < n; i++) {
          const len = m.body.readInt32BE(pos);
          pos += 4;
          cells.push(len < 0 ? 'NULL' : m.body.toString('utf8', pos, pos + len));
          pos += Math.max(len, 0);
        }
        return `D(${cells.join(',')})`;
      }
      if (m.type === 'E') return `E(${errorFields(m.body).code})`;
      if (m.type === 'C') return `C(${m.body.toString('utf8', 0, m.body.length - 1)})`;
      if (m.type === 'Z') return `Z(${String.fromCharCode(m.body[0])})`;
      return m.type;
    })
    .join(' ');
}

type Step = [who: 'a' | 'b', bytes: Buffer[]];

/** Runs the steps in order (each to its ReadyForQuery) on two clients and returns what each step got. */
async function play(a: RawConnection, b: RawConnection, steps: Step[]): Promise<string[]> {
  const out: string[] = [];
  for (const [who, bytes] of steps) {
    const c = who === 'a' ? a : b;
    c.write(Buffer.concat(bytes));
    out.push(`${who}: ${transcript(await c.untilReady())}`);
  }
  return out;
}

async function directLogin(): Promise<RawConnection> {
  const ctx = inject('pg');
  return (await RawConnection.login(ctx.port, { user: 'postgres', password: ctx.password, database: 'app' }))
    .conn;
}

async function proxyLogin(proxy: TestProxy, params?: Record<string, string>): Promise<RawConnection> {
  return (
    await RawConnection.login(proxy.port, { user: 'app', password: 'app-secret', database: 'app', params })
  ).conn;
}

/** The same steps directly on PostgreSQL and through a 1-connection transaction pool: equal replies. */
async function expectSameAsPostgres(steps: Step[], through?: TestProxy): Promise<string[]> {
  const direct = [await directLogin(), await directLogin()];
  const expected = await play(direct[0], direct[1], steps);
  direct.forEach((c) => c.end());
  const proxy = through ?? (await proxyWith({ poolSize: 1 }));
  const pooled = [await proxyLogin(proxy), await proxyLogin(proxy)];
  const got = await play(pooled[0], pooled[1], steps);
  pooled.forEach((c) => c.end());
  expect(got).toEqual(expected);
  return got;
}

describe('the unnamed statement follows its client across Sync', () => {
  it("binds a client's own unnamed statement, not the one another client parsed on the shared connection", async () => {
    const got = await expectSameAsPostgres([
      ['a', [parse('', 'select $1::int + 1000 AS a'), sync]],
      ['b', [parse('', "select 'B saw ' || $1::text AS b"), sync]],
      ['a', [bind('', '', ['5']), execute(), sync]],
      ['b', [bind('', '', ['x']), execute(), sync]],
    ]);
    expect(got[2]).toBe('a: 2 D(1005) C(SELECT 1) Z(I)');
  });

  it('describes and then binds the unnamed statement in separate rounds (describe-then-execute drivers)', async () => {
    await expectSameAsPostgres([
      ['a', [parse('', 'select $1::int * 2 AS doubled'), describeMsg('S', ''), sync]],
      ['b', [parse('', 'select $1::text AS other'), describeMsg('S', ''), sync]],
      ['a', [describeMsg('S', ''), sync]],
      ['a', [bind('', '', ['21']), execute(), sync]],
    ]);
  });

  it('answers 26000 to a Bind of the unnamed statement after a simple query dropped it, as PostgreSQL does', async () => {
    const got = await expectSameAsPostgres([
      ['a', [parse('', 'select 1 AS one'), sync]],
      ['a', [query('select 2')]],
      ['b', [parse('', 'select 3 AS three'), sync]],
      ['a', [bind('', ''), execute(), sync]],
    ]);
    expect(got[3]).toBe('a: E(26000) Z(I)');
  });

  it('keeps a failed unnamed Parse failed: the Bind after it gets 26000, not another statement', async () => {
    await expectSameAsPostgres([
      ['b', [parse('', 'select 42 AS b'), sync]],
      ['a', [parse('', 'select * from tpp_no_such_table'), sync]],
      ['a', [bind('', ''), execute(), sync]],
    ]);
  });
});

describe('DEALLOCATE of a protocol-level statement', () => {
  it('drops the statement by its name in a simple query, as PostgreSQL does, and the name can be used again', async () => {
    const got = await expectSameAsPostgres([
      ['a', [parse('s1', 'select 1 AS one'), sync]],
      ['b', [parse('s1', 'select 1 AS one'), sync]],
      ['a', [query('DEALLOCATE s1')]],
      ['a', [bind('', 's1'), execute(), sync]],
      ['b', [bind('', 's1'), execute(), sync]],
      ['a', [parse('s1', 'select 2 AS two'), bind('', 's1'), execute(), sync]],
      ['a', [query('DEALLOCATE s1')]],
      ['a', [query('DEALLOCATE s1')]],
    ]);
    expect(got[2]).toBe('a: C(DEALLOCATE) Z(I)');
    expect(got[3]).toBe('a: E(26000) Z(I)');
    expect(got[7]).toBe('a: E(26000) Z(I)');
  });

  it('drops the statement by its name in the extended protocol (how psycopg evicts its statement cache)', async () => {
    const got = await expectSameAsPostgres([
      ['a', [parse('_pg3_0', 'select 7 AS seven'), sync]],
      ['a', [parse('', 'DEALLOCATE _pg3_0'), bind('', ''), describeMsg('P', ''), execute(), sync]],
      ['a', [bind('', '_pg3_0'), execute(), sync]],
      ['b', [parse('_pg3_0', 'select 7 AS seven'), bind('', '_pg3_0'), execute(), sync]],
    ]);
    expect(got[1]).toBe('a: 1 2 n C(DEALLOCATE) Z(I)');
  });

  it('refuses DEALLOCATE in a failed transaction block with 25P02, as PostgreSQL does', async () => {
    await expectSameAsPostgres([
      ['a', [parse('s1', 'select 1'), sync]],
      ['a', [query('BEGIN')]],
      ['a', [query('select 1/0')]],
      ['a', [query('DEALLOCATE s1')]],
      ['a', [query('ROLLBACK')]],
    ]);
  });
});

describe('shared server statements and schema changes', () => {
  it("answers a client whose statement's result type changed with PostgreSQL's 0A000, never rows of another shape", async () => {
    const got = await expectSameAsPostgres([
      [
        'b',
        [
          query(
            'DROP TABLE IF EXISTS tpp_old; CREATE TABLE tpp_old (a int, b int, c int); INSERT INTO tpp_old VALUES (1, 2, 3)',
          ),
        ],
      ],
      ['a', [parse('s', 'select * from tpp_old'), describeMsg('S', 's'), sync]],
      ['a', [bind('', 's'), execute(), sync]],
      ['b', [query('ALTER TABLE tpp_old DROP COLUMN b')]],
      ['a', [bind('', 's'), execute(), sync]],
      ['b', [parse('s', 'select * from tpp_old'), bind('', 's'), execute(), sync]],
      ['b', [query('DROP TABLE tpp_old')]],
    ]);
    expect(got[4]).toBe('a: E(0A000) Z(I)');
    expect(got[5]).toBe('b: 1 2 D(1,3) C(SELECT 1) Z(I)');
  });

  it('refuses with 0A000 a statement prepared before a column change when its Bind reaches a connection without its copy', async () => {
    const proxy = await proxyWith({ poolSize: 2 });
    await withClient(directConfig(), (d) =>
      d.query('DROP TABLE IF EXISTS tpp_gen; CREATE TABLE tpp_gen (id int); INSERT INTO tpp_gen VALUES (1)'),
    );
    const [a, h1, h2] = [
      await connect(proxy.client()),
      await connect(proxy.client()),
      await connect(proxy.client()),
    ];
    const pidOf = async (c: pg.Client) =>
      (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    /** Holds the connection whose backend is `pid`, so the next statement of `a` runs on the other one. */
    const hold = async (pid: number) => {
      await Promise.all([h1.query('BEGIN'), h2.query('BEGIN')]);
      const holder = (await pidOf(h1)) === pid ? h1 : h2;
      await (holder === h1 ? h2 : h1).query('COMMIT');
      return holder;
    };
    try {
      await a.query('BEGIN');
      await a.query({ name: 'all', text: 'SELECT * FROM tpp_gen' });
      await a.query({ name: 'ids', text: 'SELECT id FROM tpp_gen' });
      const first = await pidOf(a);
      await a.query('COMMIT');
      // An index changes no result type: a statement bound elsewhere afterwards is prepared there as usual.
      await h1.query('CREATE INDEX ON tpp_gen (id)');
      let holder = await hold(first);
      expect((await a.query({ name: 'ids', text: 'SELECT id FROM tpp_gen' })).rows).toEqual([{ id: 1 }]);
      await holder.query('COMMIT');
      await h1.query('ALTER TABLE tpp_gen ADD COLUMN extra int');
      holder = await hold(first);
      const err = await a
        .query({ name: 'all', text: 'SELECT * FROM tpp_gen' })
        .catch((e: { code?: string }) => e);
      expect((err as { code?: string }).code).toBe('0A000');
      await holder.query('COMMIT');
      // A fresh client prepares the statement anew and sees the new column.
      const fresh = await withClient(proxy.client(), (c) =>
        c.query({ name: 'all', text: 'SELECT * FROM tpp_gen' }),
      );
      expect(fresh.fields.map((f) => f.name)).toEqual(['id', 'extra']);
    } finally {
      await Promise.all([a.end(), h1.end(), h2.end()]);
      await withClient(directConfig(), (d) => d.query('DROP TABLE IF EXISTS tpp_gen'));
    }
  });

  it('gives clients preparing a statement after ALTER TABLE through the proxy the new columns, with no error', async () => {
    const proxy = await proxyWith({ poolSize: 2 });
    const holder = await connect(proxy.client());
    const other = await connect(proxy.client());
    try {
      // Both server connections get the statement: one client holds a transaction open meanwhile.
      await holder.query('BEGIN');
      await holder.query({ name: 'q', text: 'SELECT * FROM tpp_shape ORDER BY id' });
      await other.query({ name: 'q', text: 'SELECT * FROM tpp_shape ORDER BY id' });
      await holder.query('COMMIT');
      await other.query('ALTER TABLE tpp_shape ADD COLUMN later int');
      const fresh = await Promise.all(
        [0, 1, 2, 3].map(() =>
          withClient(proxy.client(), (c) =>
            c.query({ name: 'q', text: 'SELECT * FROM tpp_shape ORDER BY id' }),
          ),
        ),
      );
      for (const r of fresh) expect(r.fields.map((f) => f.name)).toEqual(['id', 'later']);
    } finally {
      await holder.end();
      await other.end();
      await withClient(directConfig(), (d) => d.query('ALTER TABLE tpp_shape DROP COLUMN IF EXISTS later'));
    }
  });

  it('after a schema change made elsewhere, refuses at most once with 0A000, then prepares anew: never the old columns', async () => {
    const proxy = await proxyWith({ poolSize: 1 });
    await withClient(proxy.client(), (c) =>
      c.query({ name: 'all', text: 'SELECT * FROM tpp_shape ORDER BY id' }),
    );
    await withClient(directConfig(), (d) => d.query('ALTER TABLE tpp_shape ADD COLUMN extra text'));
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 4; i++) {
        await withClient(proxy.client(), async (c) => {
          const r = await c
            .query({ name: 'all', text: 'SELECT * FROM tpp_shape ORDER BY id' })
            .catch((e: { code?: string }) => e);
          outcomes.push('fields' in r ? r.fields.map((f) => f.name).join(',') : `error ${r.code}`);
        });
      }
      expect(outcomes.filter((o) => o === 'id')).toEqual([]);
      expect(outcomes.filter((o) => o.startsWith('error')).length).toBeLessThanOrEqual(1);
      expect(outcomes.filter((o) => o.startsWith('error'))).toEqual(
        outcomes.filter((o) => o === 'error 0A000'),
      );
      expect(outcomes.at(-1)).toBe('id,extra');
    } finally {
      await withClient(directConfig(), (d) => d.query('ALTER TABLE tpp_shape DROP COLUMN extra'));
    }
  });
});

describe('prepared statements with more clients than server connections', () => {
  it('acknowledges a Parse + Sync of a known statement while every server connection is busy', async () => {
    const proxy = await proxyWith({ poolSize: 1 });
    const first = await proxyLogin(proxy);
    first.write(Buffer.concat([parse('P_0', 'BEGIN'), sync]));
    expect(transcript(await first.untilReady())).toBe('1 Z(I)');
    first.write(Buffer.concat([bind('', 'P_0'), execute(), sync]));
    expect(transcript(await first.untilReady())).toBe('2 C(BEGIN) Z(T)');
    // The only connection is in a transaction: a second client's synchronous prepare must not wait for it.
    const second = await proxyLogin(proxy);
    second.write(Buffer.concat([parse('P_0', 'BEGIN'), sync]));
    expect(transcript(await second.untilReady(5_000))).toBe('1 Z(I)');
    second.write(Buffer.concat([bind('', 'P_0'), execute(), sync]));
    first.write(query('COMMIT'));
    expect(transcript(await first.untilReady())).toBe('C(COMMIT) Z(I)');
    expect(transcript(await second.untilReady())).toBe('2 C(BEGIN) Z(T)');
    second.write(query('COMMIT'));
    await second.untilReady();
    first.end();
    second.end();
  });

  it('runs pgbench TPC-B in prepared mode with 8 clients over 2 server connections to the end', async () => {
    const proxy = await proxyWith({ poolSize: 2 });
    const env = { PGPASSWORD: 'app-secret' };
    const target = ['-h', '127.0.0.1', '-p', String(proxy.port), '-U', 'app', 'app'];
    const init = await runTool('pgbench', ['-i', '-s', '1', '-q', ...target], env);
    expect(init.code, init.stderr).toBe(0);
    const run = await runTool(
      'pgbench',
      ['-M', 'prepared', '-c', '8', '-j', '2', '-t', '30', '-n', ...target],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/number of transactions actually processed: 240\/240/);
    expect(run.stdout).toMatch(/number of failed transactions: 0 /);
  });
});

describe('what the client is told', () => {
  it('reports client_encoding by its canonical name, as PostgreSQL does', async () => {
    const proxy = await proxyWith({ poolSize: 1 });
    const ctx = inject('pg');
    for (const [given, canonical] of [
      ['utf-8', 'UTF8'],
      ['eucjp', 'EUC_JP'],
      ['latin1', 'LATIN1'],
      ['unicode', 'UTF8'],
    ]) {
      const direct = await RawConnection.login(ctx.port, {
        user: 'postgres',
        password: ctx.password,
        database: 'app',
        params: { client_encoding: given },
      });
      const pooled = await RawConnection.login(proxy.port, {
        user: 'app',
        password: 'app-secret',
        database: 'app',
        params: { client_encoding: given },
      });
      expect(direct.params.get('client_encoding')).toBe(canonical);
      expect(pooled.params.get('client_encoding')).toBe(canonical);
      direct.conn.end();
      pooled.conn.end();
    }
  });

  it("announces the server's own pid in session mode, and a cancel by it stops that client's statement", async () => {
    const proxy = await proxyWith({ poolSize: 1, sessPoolSize: 2 });
    const login = await RawConnection.login(proxy.port, {
      user: 'app',
      password: 'app-secret',
      database: 'sess',
    });
    login.conn.write(query('SELECT pg_backend_pid()'));
    const [backendPid] = (await login.conn.untilReady())
      .filter((m) => m.type === 'D')
      .map((m) => Number(m.body.toString('utf8', 6)));
    expect(login.pid).toBe(backendPid);
    login.conn.write(query('SELECT pg_sleep(30)'));
    const cancel = await RawConnection.connect(proxy.port);
    cancel.write(fe.cancelRequest(login.pid, login.secret));
    await cancel.closed;
    const reply = await login.conn.untilReady();
    expect(reply.filter((m) => m.type === 'E').map((m) => errorFields(m.body).code)).toEqual(['57014']);
    login.conn.end();
  });

  it("relays the server's own FATAL once when its connection is terminated, with no second error", async () => {
    const proxy = await proxyWith({ poolSize: 1 });
    const victim = await proxyLogin(proxy);
    victim.write(query('BEGIN; SELECT pg_backend_pid()'));
    const reply = await victim.untilReady();
    const pidRow = reply.find((m) => m.type === 'D')!;
    const pid = Number(pidRow.body.toString('utf8', 6));
    await withClient(directConfig(), (d) => d.query('SELECT pg_terminate_backend($1)', [pid]));
    const rest = await victim.untilClosed();
    const errors = rest.filter((m) => m.type === 'E').map((m) => errorFields(m.body));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ severity: 'FATAL', code: '57P01' });
    // Others keep being served by a new server connection.
    await waitFor(
      async () =>
        withClient(proxy.client(), async (c) => (await c.query('SELECT 1 AS ok')).rows[0].ok === 1).catch(
          () => false,
        ),
      { what: 'a new server connection', timeoutMs: 10_000 },
    );
  });
});

describe('the same shapes on a sharded database', () => {
  let cluster: Cluster;
  let sharded: TestProxy;
  beforeAll(async () => {
    cluster = await startCluster({ shards: 2, replicasPerShard: 0 });
    await createAppDatabase(cluster);
    sharded = await startTestProxy({
      databasesYaml: shardedDatabasesYaml({ cluster, sharding: { tables: { items: 'id' } }, poolSize: 1 }),
    });
  });
  afterAll(async () => {
    await sharded?.close();
    await cluster?.stop();
  });

  it("binds each client's own unnamed statement across Sync", async () => {
    await expectSameAsPostgres(
      [
        ['a', [parse('', 'select $1::int + 1000 AS a'), sync]],
        ['b', [parse('', "select 'B saw ' || $1::text AS b"), sync]],
        ['a', [bind('', '', ['5']), execute(), sync]],
        ['a', [query('select 2')]],
        ['a', [bind('', '', ['5']), execute(), sync]],
      ],
      sharded,
    );
  });

  it('drops a protocol-level statement with DEALLOCATE, in both protocols', async () => {
    await expectSameAsPostgres(
      [
        ['a', [parse('s1', 'select 1 AS one'), sync]],
        ['a', [query('DEALLOCATE s1')]],
        ['a', [bind('', 's1'), execute(), sync]],
        ['a', [parse('s2', 'select 2 AS two'), sync]],
        ['a', [parse('', 'DEALLOCATE s2'), bind('', ''), describeMsg('P', ''), execute(), sync]],
        ['a', [bind('', 's2'), execute(), sync]],
      ],
      sharded,
    );
  });
});
