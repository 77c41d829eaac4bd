// Starts a real polyproxy (config text through the real loader) in front of the shared PostgreSQL for a test.
import { inject } from 'vitest';
import type pg from 'pg';
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { createLogger, silentLogger, type Logger, type LogLevel } from '../../../src/logger.js';
import { startProxy, type Proxy } from '../../../src/proxy.js';
import { freePort } from '../../../src/sandbox/ports.js';
import './context.js';

export interface TestProxyOptions {
  /** Size of the `app` transaction pool (default 2). */
  poolSize?: number;
  /** Size of the `sess` session pool (default 2). */
  sessPoolSize?: number;
  /** pool.acquire_timeout of both pools (default 10s). */
  acquireTimeout?: string;
  limits?: {
    max_message_bytes?: number;
    max_startup_packet_bytes?: number;
    max_client_connections?: number;
    max_logins_in_progress?: number;
  };
  shutdownTimeout?: string;
  tls?: { cert: string; key: string };
  /** Extra users, as YAML flow mappings, e.g. `{ name: bob, password: pw }`. */
  extraUsers?: string[];
  /** Extra transaction-pooled databases: name -> backend server and login (default: the shared primary). */
  extraDatabases?: Record<
    string,
    { primary?: string; password?: string; database?: string; connectTimeout?: string }
  >;
  /**
   * Replaces the whole `databases:` section (app, sess and extraDatabases) with these YAML lines, each
   * indented as an entry under `databases:`; for tests with their own servers (see helpers/routing.ts).
   */
  databasesYaml?: string;
  /** The `plugins:` section's entries as YAML lines, each indented under `plugins:`. */
  pluginsYaml?: string;
  /** Worker processes when the proxy runs as dist/cli.js (default 1; in-process proxies have one anyway). */
  workers?: number;
}

export interface ConfigAddress {
  port: number;
  adminPort: number;
}

/** Passwords of the users every test config defines (trustuser has none). */
export const passwords: Record<string, string | undefined> = {
  app: 'app-secret',
  md5user: 'md5-secret',
  trustuser: undefined,
};

/** Connection settings for the shared PostgreSQL itself, bypassing the proxy. */
export function directConfig(database = 'app'): pg.ClientConfig {
  const ctx = inject('pg');
  return { host: ctx.host, port: ctx.port, user: 'postgres', password: ctx.password, database };
}

export function directUrl(database = 'app'): string {
  const ctx = inject('pg');
  return `postgresql://postgres:${encodeURIComponent(ctx.password)}@${ctx.host}:${ctx.port}/${database}`;
}

/** The YAML text of a test config; the reload and CLI tests build variants of it. */
export function testConfigYaml(opts: TestProxyOptions & ConfigAddress): string {
  const ctx = inject('pg');
  const primary = `${ctx.host}:${ctx.port}`;
  const backend = `{ user: postgres, password: ${JSON.stringify(ctx.password)}, database: app }`;
  const acquire = opts.acquireTimeout ?? '10s';
  const limits = Object.entries(opts.limits ?? {})
    .map(([k, v]) => `  ${k}: ${v}`)
    .join('\n');
  const users = [
    '{ name: app, password: app-secret }',
    '{ name: md5user, password: md5-secret, auth: md5 }',
    '{ name: trustuser, auth: trust }',
    ...(opts.extraUsers ?? []),
  ];
  return [
    `listen: 127.0.0.1:${opts.port}`,
    `admin: 127.0.0.1:${opts.adminPort}`,
    `shutdown_timeout: ${opts.shutdownTimeout ?? '10s'}`,
    `workers: ${opts.workers ?? 1}`,
    ...(limits ? ['limits:', limits] : []),
    ...(opts.tls
      ? ['tls:', `  cert: ${JSON.stringify(opts.tls.cert)}`, `  key: ${JSON.stringify(opts.tls.key)}`]
      : []),
    'log: { level: warn, format: json }',
    'users:',
    ...users.map((u) => `  - ${u}`),
    'databases:',
    ...(opts.databasesYaml !== undefined
      ? [opts.databasesYaml.replace(/\n+$/, '')]
      : [
          '  app:',
          `    backend: ${backend}`,
          `    pool: { mode: transaction, size: ${opts.poolSize ?? 2}, acquire_timeout: ${acquire} }`,
          `    shards: [{ primary: "${primary}" }]`,
          '  sess:',
          `    backend: ${backend}`,
          `    pool: { mode: session, size: ${opts.sessPoolSize ?? 2}, acquire_timeout: ${acquire} }`,
          `    shards: [{ primary: "${primary}" }]`,
          ...Object.entries(opts.extraDatabases ?? {}).flatMap(([name, db]) => [
            `  ${name}:`,
            `    backend: { user: postgres, password: ${JSON.stringify(db.password ?? ctx.password)}, database: ${db.database ?? 'app'}, connect_timeout: ${db.connectTimeout ?? '5s'} }`,
            `    pool: { mode: transaction, size: 1, acquire_timeout: ${acquire} }`,
            `    shards: [{ primary: "${db.primary ?? primary}" }]`,
          ]),
        ]),
    ...(opts.pluginsYaml !== undefined ? ['plugins:', opts.pluginsYaml.replace(/\n+$/, '')] : []),
    '',
  ].join('\n');
}

function testLogger(): Logger {
  const wanted = process.env.POLYPROXY_TEST_LOG;
  if (!wanted) return silentLogger;
  const level: LogLevel = ['debug', 'info', 'warn', 'error'].includes(wanted)
    ? (wanted as LogLevel)
    : 'debug';
  return createLogger({ level, format: 'pretty' });
}

export interface TestProxy {
  port: number;
  adminPort: number;
  config: Config;
  /** A connection URL through the proxy; the password of a known user is filled in. */
  url(user?: string, database?: string): string;
  /** node-postgres settings through the proxy. */
  client(user?: string, database?: string): pg.ClientConfig;
  /** The config this proxy would get with other options (same ports), for reload tests. */
  configWith(opts: TestProxyOptions): Config;
  close(): Promise<void>;
  proxy: Proxy;
}

export async function startTestProxy(opts: TestProxyOptions = {}): Promise<TestProxy> {
  const address = { port: await freePort(), adminPort: await freePort() };
  const config = parseConfig(testConfigYaml({ ...opts, ...address }), {}, 'test-proxy.yaml');
  const proxy = await startProxy(config, { logger: testLogger() });
  let closing: Promise<void> | null = null;
  const port = proxy.address.port;
  return {
    port,
    adminPort: proxy.adminAddress!.port,
    config,
    proxy,
    url(user = 'app', database = 'app') {
      const password = passwords[user];
      const auth = password === undefined ? user : `${user}:${encodeURIComponent(password)}`;
      return `postgresql://${auth}@127.0.0.1:${port}/${database}`;
    },
    client(user = 'app', database = 'app') {
      return { host: '127.0.0.1', port, user, password: passwords[user], database };
    },
    configWith(next) {
      return parseConfig(testConfigYaml({ ...next, ...address }), {}, 'test-proxy.yaml');
    },
    close() {
      closing ??= proxy.close();
      return closing;
    },
  };
}
