// Startup parameters refused or accepted by name as PostgreSQL 15 does, and bounded in number and size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { RawConnection, firstColumns, query, type LoginOptions } from './helpers/raw-client.js';
import { connect, within } from './helpers/tools.js';

let proxy: TestProxy;

beforeAll(async () => {
  proxy = await startTestProxy();
});

afterAll(() => proxy?.close());

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
}

/** Logs in with extra startup parameters; the outcome with the proxy's user name written as PostgreSQL's. */
async function login(port: number, opts: LoginOptions): Promise<Outcome> {
  try {
    const { conn } = await RawConnection.login(port, opts);
    conn.end();
    return { ok: true };
  } catch (err) {
    const e = err as Error & { code?: string };
    return { ok: false, code: e.code, message: e.message.replace('"postgres"', '"app"') };
  }
}

async function bothWays(
  params: Record<string, string>,
  direct: Partial<LoginOptions> = {},
  viaProxy = direct,
) {
  const c = directConfig();
  const expected = await login(c.port!, {
    user: c.user!,
    password: c.password as string,
    database: 'app',
    ...direct,
    params,
  });
  const actual = await login(proxy.port, {
    user: 'app',
    password: 'app-secret',
    database: 'app',
    ...viaProxy,
    params,
  });
  return { expected, actual };
}

describe('startup parameters compared with PostgreSQL', () => {
  const cases: [string, Record<string, string>][] = [
    ['an unknown name', { xyz: '1' }],
    ['an unknown name in mixed case', { XyZ: '1' }],
    ['an unknown name among known ones', { application_name: 'a', client_encoding: 'UTF8', zzz: '2' }],
    ['an unknown name in options', { options: '-c no_such_setting=on' }],
    ['a known name in mixed case', { DateStyle: 'ISO, MDY' }],
    ['a custom name with a dot', { 'myapp.tenant': '42' }],
    ['a malformed custom name', { 'myapp.1x': '1' }],
    ['an empty custom name part', { '.x': '1' }],
    ['names pg_settings does not list', { seed: '0.5' }],
    ['replication, which is not a setting', { replication: 'false' }],
  ];
  for (const [what, params] of cases) {
    it(`treats ${what} as PostgreSQL does`, async () => {
      const { expected, actual } = await bothWays(params);
      expect(actual).toEqual(expected);
    });
  }

  it('refuses an unknown name with FATAL 42704', async () => {
    const { expected } = await bothWays({ xyz: '1' });
    expect(expected).toEqual({
      ok: false,
      code: '42704',
      message: 'unrecognized configuration parameter "xyz"',
    });
  });

  it('checks names after the password and the database, as PostgreSQL does', async () => {
    const wrong = await bothWays({ xyz: '1' }, { password: 'wrong' });
    expect(wrong.actual).toEqual(wrong.expected);
    expect(wrong.actual.code).toBe('28P01');
    const nodb = await bothWays({ xyz: '1' }, { database: 'nosuchdb' });
    expect(nodb.actual.code).toBe(nodb.expected.code);
    expect(nodb.actual.code).toBe('3D000');
  });

  it('applies a custom setting that passed on the server connections', async () => {
    const { conn } = await RawConnection.login(proxy.port, {
      user: 'app',
      password: 'app-secret',
      database: 'app',
      params: { 'myapp.tenant': '42' },
    });
    conn.write(query("SELECT current_setting('myapp.tenant')"));
    expect(firstColumns(await conn.untilReady())).toEqual(['42']);
    conn.end();
  });
});

describe('bounds', () => {
  it('refuses 600 unknown startup parameters', async () => {
    const params = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`p${i}`, 'x']));
    const { actual } = await bothWays(params);
    expect(actual.ok).toBe(false);
  });

  it('refuses more than 100 startup parameters with 54000, even custom ones PostgreSQL would take', async () => {
    // With user and database: 101 parameters.
    const params = Object.fromEntries(Array.from({ length: 99 }, (_, i) => [`app.p${i}`, 'x']));
    const { expected, actual } = await bothWays(params);
    expect(expected.ok).toBe(true);
    expect(actual).toEqual({
      ok: false,
      code: '54000',
      message: 'too many startup parameters: 101 (at most 100)',
    });
    const fewer = Object.fromEntries(Array.from({ length: 98 }, (_, i) => [`app.p${i}`, 'x']));
    expect((await bothWays(fewer)).actual).toEqual({ ok: true });
  });

  it('drops a startup packet over max_startup_packet_bytes without an answer, as PostgreSQL drops one over 10000', async () => {
    const params = { 'app.big': 'x'.repeat(11_000) };
    const { expected, actual } = await bothWays(params);
    expect(actual).toEqual(expected);
    expect(actual).toEqual({ ok: false, code: undefined, message: 'connection closed during login' });
  });
});

describe('a busy or paused pool', () => {
  it('does not hold up a login while the setting names are not known yet (the pool is paused)', async () => {
    const paused = await startTestProxy({ extraUsers: ['{ name: ops, password: ops-secret, admin: true }'] });
    const admin = await connect({
      host: '127.0.0.1',
      port: paused.port,
      user: 'ops',
      password: 'ops-secret',
      database: 'polyproxy',
    });
    try {
      // A first login without settings: the server's parameters are known, the setting names are not.
      const first = await RawConnection.login(paused.port, {
        user: 'app',
        password: 'app-secret',
        database: 'app',
      });
      first.conn.end();
      await admin.query('PAUSE app');
      const { conn } = await within(
        RawConnection.login(paused.port, {
          user: 'app',
          password: 'app-secret',
          database: 'app',
          params: { DateStyle: 'ISO, MDY', 'myapp.x': '1' },
        }),
        10_000,
        'a login to a paused database',
      );
      await admin.query('RESUME app');
      conn.write(query('SELECT 1'));
      expect(firstColumns(await conn.untilReady())).toEqual(['1']);
      conn.end();
    } finally {
      await admin.end();
      await paused.close();
    }
  });
});
