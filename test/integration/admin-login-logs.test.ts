// Logs are structured, name the connection, and never carry a password: failed logins, a backend that refuses
// the proxy's password, config values and secrets inside URLs or conninfo strings.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger, statementFields } from '../../src/logger.js';
import { startProxy, type Proxy } from '../../src/proxy.js';
import { freePort } from '../../src/sandbox/ports.js';
import { loadParser } from '../../src/sql/parser.js';
import { testConfigYaml } from './helpers/proxy.js';
import { rejection, withClient } from './helpers/tools.js';

const wrongClientPassword = 'wr0ng-client-pw-4711';
const wrongBackendPassword = 'wr0ng-backend-pw-0815';
const secrets = ['app-secret', 'md5-secret', 'ops-secret', wrongClientPassword, wrongBackendPassword];

const lines: string[] = [];
let proxy: Proxy;
let port: number;

beforeAll(async () => {
  port = await freePort();
  const yaml = testConfigYaml({
    port,
    adminPort: await freePort(),
    extraUsers: ['{ name: ops, password: ops-secret, admin: true }'],
    extraDatabases: { badbackend: { password: wrongBackendPassword } },
  });
  const logger = createLogger({ level: 'debug', format: 'json', write: (line) => lines.push(line) });
  proxy = await startProxy(parseConfig(yaml, {}, 'logs-test.yaml'), { logger });
});

afterAll(async () => {
  await proxy?.close();
});

const as = (user: string, password: string, database = 'app') => ({
  host: '127.0.0.1',
  port,
  user,
  password,
  database,
});

describe('logs', () => {
  it('record failed logins without the password tried or the configured one', async () => {
    for (const user of ['app', 'md5user', 'ops', 'nobody']) {
      const err = await rejection(withClient(as(user, wrongClientPassword), (c) => c.query('SELECT 1')));
      expect(err.code).toBe('28P01');
    }
    const badBackend = await rejection(
      withClient(as('app', 'app-secret', 'badbackend'), (c) => c.query('SELECT 1')),
    );
    expect(badBackend.message).toContain('password authentication failed');
    await withClient(as('app', 'app-secret'), (c) => c.query('SELECT 1'));

    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const rejected = entries.filter((e) => e.msg === 'login rejected');
    expect(rejected.filter((e) => e.sqlstate === '28P01').length).toBeGreaterThanOrEqual(4);
    expect(entries.some((e) => e.msg === 'server connection failed' && e.server !== undefined)).toBe(true);
    // A session's lines name its connection: the pid the client also sees (BackendKeyData), user and database.
    const connected = entries.find((e) => e.msg === 'client connected' && e.database === 'app');
    expect(connected).toMatchObject({ user: 'app', level: 'debug' });
    expect(typeof connected!.client).toBe('number');

    const all = lines.join('\n');
    for (const secret of secrets) expect(all).not.toContain(secret);
    // md5 clients send md5(md5(password + user) + salt); not even the inner hash may show.
    const inner = createHash('md5').update(`${wrongClientPassword}md5user`).digest('hex');
    expect(all).not.toContain(inner);
  });

  it('redact secret-named fields at any depth, and passwords inside URLs and conninfo strings', () => {
    const out: string[] = [];
    const log = createLogger({ level: 'info', format: 'json', write: (l) => out.push(l) });
    log.info('connecting', {
      url: 'redis://:s3cret-a@redis:6379/0',
      target: "host=db port=5432 password='s3cret b' user=x",
      plugin: { graph: { password: 's3cret-c', url: 'bolt://neo4j:s3cret-d@neo4j:7687' } },
      token: 's3cret-e',
      err: new Error('mongodb://u:s3cret-f@mongo/x unreachable'),
    });
    const text = out.join('');
    expect(text).not.toMatch(/s3cret/);
    expect(JSON.parse(text)).toMatchObject({
      url: 'redis://:[redacted]@redis:6379/0',
      target: 'host=db port=5432 password=[redacted] user=x',
      plugin: { graph: { password: '[redacted]', url: 'bolt://neo4j:[redacted]@neo4j:7687' } },
      token: '[redacted]',
      err: 'mongodb://u:[redacted]@mongo/x unreachable',
    });
  });

  it('fingerprint statements instead of logging their text', async () => {
    await loadParser();
    const a = statementFields("ALTER ROLE bob PASSWORD 'hunter2'");
    expect(JSON.stringify(a)).not.toContain('hunter2');
    expect(statementFields('SELECT * FROM t WHERE id = 1')).toEqual(
      statementFields('SELECT * FROM t WHERE id = 42'),
    );
    expect(statementFields('SELECT 1 FROM t')).not.toEqual(statementFields('SELECT 1 FROM u'));
    expect(statementFields('SELEKT')).toEqual({ fingerprint: 'unparsable' });
  });

  it('print one readable line per entry in pretty format', () => {
    const out: string[] = [];
    createLogger({ level: 'info', format: 'pretty', write: (l) => out.push(l) }, { client: 7 }).warn('slow', {
      password: 'x',
      ms: 12,
    });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}slow client=7 password=\[redacted\] ms=12$/);
  });
});
