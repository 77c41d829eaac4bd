// Parsing a config: defaults, normalized durations and one readable line per problem.
import { describe, it, expect } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';

const minimal = `
users: [{ name: app, password: secret }]
databases:
  app:
    backend: { user: postgres, database: app }
    shards: [{ primary: "127.0.0.1:5432" }]
`;

/** A valid config with `extra` spliced under databases.app. */
function withDatabase(extra: string, shards = '[{ primary: "127.0.0.1:5432" }]'): string {
  return `users: [{ name: app, password: secret }]
databases:
  app:
    backend: { user: postgres, database: app }
    shards: ${shards}
${extra
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
`;
}

function errorsOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, env, 'test.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.errors;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies defaults', () => {
    const config = parseConfig(minimal, {});
    expect(config.listen).toBe('127.0.0.1:6432');
    expect(config.admin).toBeUndefined();
    expect(config.limits).toEqual({
      max_startup_packet_bytes: 10_000,
      max_message_bytes: 67_108_864,
      max_client_connections: 1000,
    });
    expect(config.log).toEqual({ level: 'info', format: 'json' });
    expect(config.shutdown_timeout).toBe(30_000);
    expect(config.users[0]).toEqual({ name: 'app', password: 'secret', auth: 'scram-sha-256', admin: false });
    expect(config.plugins).toEqual({});
    const app = config.databases.app;
    expect(app.backend).toEqual({
      user: 'postgres',
      password: '',
      database: 'app',
      tls: { mode: 'disable' },
      connect_timeout: 5_000,
    });
    expect(app.pool).toEqual({
      mode: 'transaction',
      size: 10,
      min_idle: 0,
      acquire_timeout: 10_000,
      idle_timeout: 600_000,
      lifetime: 3_600_000,
      health_check_interval: 30_000,
      reset_query: 'DISCARD ALL',
      query_timeout: 0,
      idle_transaction_timeout: 0,
    });
    expect(app.shards).toEqual([{ primary: '127.0.0.1:5432', replicas: [] }]);
    expect(app.routing).toEqual({
      read_your_writes: 'user',
      read_your_writes_wait: 0,
      max_replica_lag: 5_000,
      primary_reads: false,
      load_balance: 'round_robin',
      primary_functions: [],
      replica_weights: {},
      check_interval: 250,
      check_timeout: 1_000,
    });
    expect(app.sharding).toBeUndefined();
  });

  it('normalizes durations to milliseconds', () => {
    const config = parseConfig(
      withDatabase('pool: { acquire_timeout: 250ms, idle_timeout: 2m, lifetime: 1500 }'),
      {},
    );
    expect(config.databases.app.pool).toMatchObject({
      acquire_timeout: 250,
      idle_timeout: 120_000,
      lifetime: 1500,
    });
    expect(errorsOf(withDatabase('pool: { lifetime: soon }'))).toEqual([
      'databases.app.pool.lifetime: expected a duration such as 250ms, 5s, 2m, 1h or a number of milliseconds, got "soon"',
    ]);
  });

  it('substitutes the environment before parsing', () => {
    const text =
      minimal.replace('password: secret', 'password: "${APP_PW}"') + 'listen: ${LISTEN:-0.0.0.0:7432}\n';
    const config = parseConfig(text, { APP_PW: 'from-env' });
    expect(config.users[0].password).toBe('from-env');
    expect(config.listen).toBe('0.0.0.0:7432');
    expect(errorsOf(text)).toEqual([
      'line 2: environment variable APP_PW is not set (write ${APP_PW:-default} for a default)',
    ]);
  });

  it('rejects a host without a port in exactly this form', () => {
    expect(errorsOf(withDatabase('', '[{ primary: localhost }]'))).toEqual([
      'databases.app.shards[0].primary: expected host:port, got "localhost"',
    ]);
  });

  it('quotes keys that are not plain words in the path', () => {
    expect(
      errorsOf(minimal.replace('  app:', '  "my.db":').replace('"127.0.0.1:5432"', 'localhost')),
    ).toEqual(['databases["my.db"].shards[0].primary: expected host:port, got "localhost"']);
  });

  it('puts the file name in the message', () => {
    expect(() => parseConfig(withDatabase('', '[{ primary: localhost }]'), {}, 'conf/app.yaml')).toThrow(
      'conf/app.yaml: databases.app.shards[0].primary: expected host:port, got "localhost"',
    );
  });

  it('reports an unknown key with its path and the likely intended key', () => {
    expect(errorsOf(withDatabase('pool: { sise: 5 }'))).toEqual([
      'databases.app.pool.sise: unknown key (did you mean size?)',
    ]);
    expect(errorsOf(`${minimal}colour: blue\n`)[0]).toMatch(
      /^colour: unknown key \(expected one of listen, admin/,
    );
  });

  it('words missing keys, wrong types and enums readably', () => {
    const text = `log: { level: loud }
users: [{ password: 42 }]
databases:
  app:
    backend: { user: postgres, database: app }
    pool: { size: ten }
    shards: []
`;
    expect(errorsOf(text)).toEqual([
      'log.level: expected one of "debug", "info", "warn", "error", got "loud"',
      'users[0].name: required key is missing (expected string)',
      'users[0].password: expected string, got number (value hidden)',
      'databases.app.pool.size: expected integer, got "ten"',
      'databases.app.shards: expected at least 1 item, got []',
    ]);
  });

  it('requires a password unless auth is trust', () => {
    expect(errorsOf(minimal.replace('password: secret', 'auth: md5'))).toEqual([
      'users[0].password: required with auth md5 (only auth: trust needs no password)',
    ]);
    expect(parseConfig(minimal.replace('password: secret', 'auth: trust'), {}).users[0].auth).toBe('trust');
  });

  it('refuses an md5 hash with auth scram-sha-256 and says why', () => {
    const md5 = 'md5' + 'a'.repeat(32);
    const [error] = errorsOf(minimal.replace('password: secret', `password: ${md5}`));
    expect(error).toMatch(
      /^users\[0\]\.password: an md5 hash cannot be used with auth scram-sha-256: SCRAM needs/,
    );
    expect(
      parseConfig(minimal.replace('password: secret', `password: ${md5}, auth: md5`), {}).users[0].auth,
    ).toBe('md5');
  });

  it('refuses a malformed SCRAM verifier rather than taking it as plain text', () => {
    const [error] = errorsOf(minimal.replace('password: secret', 'password: "SCRAM-SHA-256$4096:abc"'));
    expect(error).toMatch(/^users\[0\]\.password: looks like a SCRAM-SHA-256 verifier but is malformed/);
  });

  it('allows sharding only with more than one shard', () => {
    const sharding = 'sharding: { tables: { users: id } }';
    expect(errorsOf(withDatabase(sharding))).toEqual([
      'databases.app.sharding: sharding needs more than one shard (add shards or remove sharding), got 1',
    ]);
    const twoShards = '[{ primary: "10.0.0.1:5432" }, { primary: "10.0.0.2:5432" }]';
    const config = parseConfig(withDatabase(sharding, twoShards), {});
    expect(config.databases.app.sharding).toEqual({
      tables: { users: 'id' },
      reference: [],
      default_shard: 0,
      algorithm: 'hash',
      deadlock_check_interval: 1000,
      lock_wait_limit: 0,
      coordinator: {},
    });
    expect(errorsOf(withDatabase('sharding: { tables: {}, default_shard: 2 }', twoShards))).toEqual([
      'databases.app.sharding.default_shard: expected a shard index 0..1, got 2',
    ]);
  });

  it('reserves the admin console database name', () => {
    const text = minimal.replace('  app:', '  polyproxy:');
    expect(errorsOf(text)).toEqual([
      'databases.polyproxy: "polyproxy" is reserved for the admin console; choose another database name',
    ]);
  });

  it('requires users and databases', () => {
    expect(errorsOf('')).toEqual([
      'users: required key is missing (expected list)',
      'databases: required key is missing (expected mapping)',
    ]);
    expect(errorsOf('users: [{ name: a, password: b }]\ndatabases: {}\n')).toEqual([
      'databases: expected at least one database, got none',
    ]);
  });

  it('gives line and column for YAML syntax errors', () => {
    const [error] = errorsOf('listen: 127.0.0.1:6432\nusers: [\n');
    expect(error).toMatch(/^line \d+, column \d+: /);
    expect(errorsOf('a: 1\na: 2\n')).toEqual(['line 2, column 1: Map keys must be unique']);
  });

  it('supports YAML anchors and merge keys for shared settings', () => {
    const text = `users: [{ name: app, password: secret }]
databases:
  app:
    backend: { user: postgres, database: app }
    pool: &pool { mode: session, size: 3 }
    shards: [{ primary: "127.0.0.1:5432" }]
  reports:
    backend: { user: postgres, database: reports }
    pool: { <<: *pool, size: 4 }
    shards: [{ primary: "127.0.0.1:5432" }]
`;
    expect(parseConfig(text, {}).databases.reports.pool).toMatchObject({ mode: 'session', size: 4 });
  });
});

describe('routing.read_your_writes', () => {
  it('takes a scope, and true / false as before (user / off)', () => {
    const scope = (v: string) =>
      parseConfig(withDatabase(`routing: { read_your_writes: ${v} }`), {}).databases.app.routing
        .read_your_writes;
    expect(scope('true')).toBe('user');
    expect(scope('false')).toBe('off');
    expect(scope('application')).toBe('application');
    expect(scope('connection')).toBe('connection');
    expect(() => scope('everyone')).toThrow(/read_your_writes/);
  });
});
