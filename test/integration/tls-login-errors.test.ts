// Login errors after a TLS handshake travel over TLS, as PostgreSQL sends them; refused TLS logins hold no socket.
import { execFile } from 'node:child_process';
import { mkdtemp, copyFile, chmod } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import * as fe from '../../src/protocol/frontend-messages.js';
import { MessageWriter } from '../../src/protocol/writer.js';
import { startPrimary, type PgServer } from '../../src/sandbox/postgres.js';
import { chownForServer, openForServer } from '../../src/sandbox/process.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { errorFields } from './helpers/raw-client.js';
import { proxySideSockets, settlesTo } from './helpers/sockets.js';
import { psql, rejection, withClient, within } from './helpers/tools.js';

let proxy: TestProxy;
/** PostgreSQL with TLS on, for comparison; its superuser logs in with the same password as the proxy's app user. */
let server: PgServer;
let certFiles: { cert: string; key: string };

beforeAll(async () => {
  const dir = await mkdtemp(join(inject('pg').baseDir, 'tls-login-'));
  await openForServer(dir);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-days',
    '1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  // The server reads its own copies: PostgreSQL wants its key owned by the user it runs as.
  const serverCert = join(dir, 'server-cert.pem');
  const serverKey = join(dir, 'server-key.pem');
  await copyFile(certFile, serverCert);
  await copyFile(keyFile, serverKey);
  await chmod(serverKey, 0o600);
  await chownForServer(serverCert, serverKey);
  certFiles = { cert: certFile, key: keyFile };
  [proxy, server] = await Promise.all([
    startTestProxy({ tls: { cert: certFile, key: keyFile } }),
    startPrimary({
      baseDir: dir,
      password: 'app-secret',
      settings: { ssl: 'on', ssl_cert_file: serverCert, ssl_key_file: serverKey },
    }),
  ]);
  await server.psql('CREATE DATABASE app');
});

afterAll(async () => {
  await Promise.all([proxy?.close(), server?.stop()]);
});

const tlsClient = (port: number, user: string, password: string, database: string) => ({
  host: '127.0.0.1',
  port,
  user,
  password,
  database,
  ssl: { rejectUnauthorized: false },
});

describe('login errors over TLS', () => {
  it('gives node-postgres the same errors as PostgreSQL: wrong password, unknown user, unknown database, unknown setting', async () => {
    const attempts: [string, string, string, string?][] = [
      ['wrong password', 'wrong', 'app'],
      ['unknown user', 'app-secret', 'app', 'nobody'],
      ['unknown database', 'app-secret', 'nosuchdb'],
      ['unknown setting', 'app-secret', 'app', undefined],
    ];
    for (const [what, password, database, user] of attempts) {
      const options = what === 'unknown setting' ? { options: '-c no_such_setting=1' } : {};
      const expected = await rejection(
        withClient({ ...tlsClient(server.port, user ?? 'postgres', password, database), ...options }, (c) =>
          c.query('SELECT 1'),
        ),
      );
      const actual = await rejection(
        withClient({ ...tlsClient(proxy.port, user ?? 'app', password, database), ...options }, (c) =>
          c.query('SELECT 1'),
        ),
      );
      const same = (m: string) => m.replace(/"postgres"/, '"app"');
      expect({ code: actual.code, message: actual.message }, what).toEqual({
        code: expected.code,
        message: same(expected.message),
      });
      expect(actual.code, what).toMatch(/^(28P01|3D000|42704)$/);
    }
  });

  it('shows psql with sslmode=require the server error, not an SSL error', async () => {
    const url = (port: number, user: string, password: string, db: string) =>
      `postgresql://${user}:${password}@127.0.0.1:${port}/${db}?sslmode=require`;
    for (const [password, db] of [
      ['wrong', 'app'],
      ['app-secret', 'nosuchdb'],
    ]) {
      const direct = await psql(url(server.port, 'postgres', password, db), ['-c', 'SELECT 1']);
      const proxied = await psql(url(proxy.port, 'app', password, db), ['-c', 'SELECT 1']);
      // The FATAL line (the proxy may add a HINT of its own).
      const shown = (stderr: string, port: number) =>
        stderr
          .split('\n')[0]
          .replace(String(port), 'PORT')
          .replace(/"postgres"/, '"app"');
      expect(proxied.stderr).not.toContain('SSL');
      expect(proxied.code).toBe(direct.code);
      expect(shown(proxied.stderr, proxy.port)).toBe(shown(direct.stderr, server.port));
    }
  });
});

describe('encryption requests after TLS is up', () => {
  /** The error sent over TLS for a packet sent after the handshake. */
  async function afterHandshake(port: number, packet: Buffer): Promise<unknown> {
    const raw = net.connect({ host: '127.0.0.1', port });
    raw.on('error', () => {});
    await new Promise((r) => raw.once('connect', r));
    raw.write(fe.sslRequest);
    const answer = await new Promise<Buffer>((r) => raw.once('data', r));
    expect(answer.toString()).toBe('S');
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    secure.on('error', () => {});
    await new Promise((r) => secure.once('secureConnect', r));
    let got = Buffer.alloc(0);
    secure.on('data', (c: Buffer) => (got = Buffer.concat([got, c])));
    const closed = new Promise((r) => secure.once('close', r));
    secure.write(packet);
    await within(closed, 10_000, 'the close after a refused encryption request');
    expect(got[0]).toBe(0x45);
    const f = errorFields(got.subarray(5, 1 + got.readInt32BE(1)));
    return { severity: f.severity, code: f.code, message: f.message };
  }

  it('refuses a second SSLRequest and a GSSENCRequest over TLS, as PostgreSQL does', async () => {
    const gssencRequest = new MessageWriter(null).int32(80877104).finish();
    for (const packet of [fe.sslRequest, gssencRequest]) {
      const expected = await afterHandshake(server.port, packet);
      expect(await afterHandshake(proxy.port, packet)).toEqual(expected);
      expect(expected).toMatchObject({ severity: 'FATAL', code: '0A000' });
    }
  });
});

describe('refused TLS logins', () => {
  it('close their sockets even when the client keeps its side open', async () => {
    const clients: tls.TLSSocket[] = [];
    try {
      for (let wave = 0; wave < 3; wave++) {
        const batch = await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const raw = net.connect({ host: '127.0.0.1', port: proxy.port });
            raw.on('error', () => {});
            await new Promise((r) => raw.once('connect', r));
            raw.write(fe.sslRequest);
            await new Promise((r) => raw.once('data', r));
            const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
            secure.on('error', () => {});
            await new Promise((r) => secure.once('secureConnect', r));
            const database = i % 2 === 0 ? 'nosuchdb' : 'app';
            const user = i % 2 === 0 ? 'trustuser' : 'md5user';
            secure.write(fe.startupMessage({ user, database }));
            if (user === 'md5user') secure.write(fe.passwordMessage('md5wrong'));
            return secure;
          }),
        );
        clients.push(...batch);
      }
      expect(await settlesTo(() => proxySideSockets(proxy.port), 0, 20_000)).toBe(0);
    } finally {
      for (const c of clients) c.destroy();
    }
  });

  it('give their login slot back: refused TLS logins never count against limits.max_logins_in_progress', async () => {
    const limited = await startTestProxy({ tls: certFiles, limits: { max_logins_in_progress: 2 } });
    try {
      for (let i = 0; i < 6; i++) {
        const err = await rejection(
          withClient(tlsClient(limited.port, 'app', 'wrong', 'app'), (c) => c.query('SELECT 1')),
        );
        expect(err.code, `refused login ${i}`).toBe('28P01');
      }
      await withClient(tlsClient(limited.port, 'app', 'app-secret', 'app'), async (c) => {
        expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      });
    } finally {
      await limited.close();
    }
  });
});
