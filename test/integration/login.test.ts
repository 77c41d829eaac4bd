// Client login through the proxy: auth methods, the errors real clients see, startup parameters, limits.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/sandbox/ports.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { RawConnection } from './helpers/raw-client.js';
import { connect, psql, rejection, withClient } from './helpers/tools.js';

let proxy: TestProxy;
let deadPort: number;

beforeAll(async () => {
  // Password secrets as PostgreSQL itself stores them, so the proxy's parsing is checked against the real thing.
  const secrets = await withClient(directConfig(), async (c) => {
    await c.query("SET password_encryption = 'scram-sha-256'");
    await c.query(
      "DROP ROLE IF EXISTS login_scram_probe; CREATE ROLE login_scram_probe PASSWORD 'verifier-secret'",
    );
    const r = await c.query(`SELECT
      (SELECT rolpassword FROM pg_authid WHERE rolname = 'login_scram_probe') AS scram,
      'md5' || md5('hash-secret' || 'md5hashuser') AS md5`);
    await c.query('DROP ROLE login_scram_probe');
    return r.rows[0] as { scram: string; md5: string };
  });
  deadPort = await freePort();
  proxy = await startTestProxy({
    extraUsers: [
      `{ name: verifieruser, password: ${JSON.stringify(secrets.scram)} }`,
      `{ name: md5hashuser, password: ${secrets.md5}, auth: md5 }`,
    ],
    extraDatabases: {
      down: { primary: `127.0.0.1:${deadPort}`, connectTimeout: '2s' },
      badlogin: { password: 'not-the-backend-password' },
    },
  });
});

afterAll(() => proxy.close());

const login = (config: pg.ClientConfig) =>
  withClient(config, (c) => c.query('SELECT current_user AS u, 1 AS ok'));

describe('authentication', () => {
  it('rejects a wrong password with 28P01', async () => {
    const err = await rejection(login({ ...proxy.client(), password: 'wrong' }));
    expect(err.code).toBe('28P01');
    expect(err.message).toBe('password authentication failed for user "app"');
  });

  it('rejects an unknown user with 28P01 and the same message as a wrong password', async () => {
    const err = await rejection(login({ ...proxy.client(), user: 'nobody', password: 'whatever' }));
    expect(err.code).toBe('28P01');
    expect(err.message).toBe('password authentication failed for user "nobody"');
  });

  it('rejects an unknown database with 3D000', async () => {
    const err = await rejection(login(proxy.client('app', 'no_such_db')));
    expect(err.code).toBe('3D000');
    expect(err.message).toContain('"no_such_db"');
  });

  it('logs in users with scram-sha-256, md5 and trust', async () => {
    for (const user of ['app', 'md5user', 'trustuser']) {
      const r = await login(proxy.client(user));
      expect(r.rows).toEqual([{ u: 'postgres', ok: 1 }]);
    }
  });

  it('answers a burst of concurrent SCRAM logins, right and wrong passwords and unknown users alike', async () => {
    const good = Array.from({ length: 40 }, () => login(proxy.client()));
    const wrong = Array.from({ length: 10 }, () =>
      rejection(login({ ...proxy.client(), password: 'wrong' })),
    );
    const unknown = Array.from({ length: 10 }, (_, i) =>
      rejection(login({ ...proxy.client(), user: `ghost${i}`, password: 'whatever' })),
    );
    for (const r of await Promise.all(good)) expect(r.rows).toEqual([{ u: 'postgres', ok: 1 }]);
    for (const err of await Promise.all([...wrong, ...unknown])) expect(err.code).toBe('28P01');
  });

  it('rejects a wrong md5 password with 28P01', async () => {
    const err = await rejection(login({ ...proxy.client('md5user'), password: 'wrong' }));
    expect(err.code).toBe('28P01');
  });

  it('logs in users whose secrets are a PostgreSQL SCRAM verifier and an md5 hash', async () => {
    expect(
      (await login({ ...proxy.client(), user: 'verifieruser', password: 'verifier-secret' })).rows[0].ok,
    ).toBe(1);
    expect(
      (await login({ ...proxy.client(), user: 'md5hashuser', password: 'hash-secret' })).rows[0].ok,
    ).toBe(1);
    expect((await rejection(login({ ...proxy.client(), user: 'verifieruser', password: 'nope' }))).code).toBe(
      '28P01',
    );
  });

  it('shows psql users the same messages PostgreSQL would', async () => {
    const good = await psql(proxy.url('md5user'), ['-At', '-c', 'SELECT 1']);
    expect(good).toMatchObject({ code: 0, stdout: '1\n' });
    const trust = await psql(proxy.url('trustuser'), ['-At', '-c', 'SELECT 2']);
    expect(trust).toMatchObject({ code: 0, stdout: '2\n' });
    const bad = await psql(proxy.url('app').replace('app-secret', 'wrong'), ['-c', 'SELECT 1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('FATAL:  password authentication failed for user "app"');
    const noDb = await psql(proxy.url('app', 'no_such_db'), ['-c', 'SELECT 1']);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain('FATAL:  database "no_such_db" does not exist');
  });
});

describe('startup parameters', () => {
  it('reports the parameters PostgreSQL reports, with the values the client asked for', async () => {
    const params = { application_name: 'login-test', client_encoding: 'UTF8', DateStyle: 'ISO, DMY' };
    const direct = await RawConnection.login(directConfig().port!, {
      user: 'postgres',
      password: directConfig().password as string,
      database: 'app',
      params,
    });
    direct.conn.end();
    const proxied = await RawConnection.login(proxy.port, {
      user: 'app',
      password: 'app-secret',
      database: 'app',
      params,
    });
    proxied.conn.end();
    expect([...proxied.params.keys()].sort()).toEqual([...direct.params.keys()].sort());
    for (const name of [
      'server_version',
      'server_encoding',
      'client_encoding',
      'application_name',
      'DateStyle',
      'TimeZone',
      'integer_datetimes',
      'standard_conforming_strings',
    ]) {
      expect({ name, value: proxied.params.get(name) }).toEqual({ name, value: direct.params.get(name) });
    }
    expect(proxied.params.get('application_name')).toBe('login-test');
    expect(proxied.params.get('DateStyle')).toBe('ISO, DMY');
    expect(proxied.pid).not.toBe(0);
  });

  it("applies the client's application_name and -c options on every server connection it uses, as PostgreSQL does", async () => {
    const settings =
      "SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS st, current_setting('search_path') AS sp";
    const startup = (k: number) => ({
      application_name: `opts${k}`,
      options: `-c statement_timeout=${1001 + k} -c search_path=pg_catalog,public`,
    });
    const expected = await Promise.all(
      [0, 1, 2, 3].map((k) => withClient({ ...directConfig(), ...startup(k) }, (c) => c.query(settings))),
    );
    expect(expected[0].rows[0]).toEqual({ app: 'opts0', st: '1001ms', sp: 'pg_catalog,public' });
    const clients = await Promise.all([0, 1, 2, 3].map((k) => connect({ ...proxy.client(), ...startup(k) })));
    try {
      await Promise.all(
        clients.map(async (c, k) => {
          for (let i = 0; i < 20; i++) expect((await c.query(settings)).rows).toEqual(expected[k].rows);
        }),
      );
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});

describe('limits and unreachable backends', () => {
  it('refuses clients beyond limits.max_client_connections with 53300 and accepts them once others leave', async () => {
    const limited = await startTestProxy({ limits: { max_client_connections: 3 } });
    try {
      const clients = await Promise.all(Array.from({ length: 3 }, () => connect(limited.client())));
      const err = await rejection(login(limited.client()));
      expect(err.code).toBe('53300');
      expect(err.message).toBe('sorry, too many clients already');
      await clients[0].end();
      expect((await login(limited.client())).rows[0].ok).toBe(1);
      await Promise.all(clients.slice(1).map((c) => c.end()));
    } finally {
      await limited.close();
    }
  });

  it('answers a login to a database whose server is down with 08006 instead of hanging', async () => {
    const err = await rejection(login(proxy.client('app', 'down')));
    expect(err.code).toBe('08006');
    expect(err.message).toContain(`127.0.0.1:${deadPort}`);
  });

  it('answers a login to a database whose backend credentials are wrong with an error naming the cause', async () => {
    const err = await rejection(login(proxy.client('app', 'badlogin')));
    expect(err.code).toBe('08006');
    expect(err.message).toContain('password authentication failed for user "postgres"');
    expect((await login(proxy.client())).rows[0].ok).toBe(1);
  });
});
