// Composition root: builds databases, the client listener and the admin endpoint from a config.
import fs from 'node:fs';
import type http from 'node:http';
import tls from 'node:tls';
import { adminConsole } from './admin/console/console.js';
import { startAdminHttp } from './admin/http.js';
import { Database } from './backend/database.js';
import { parseHostPort } from './config/host-port.js';
import { loadConfigFile } from './config/load.js';
import { diffDatabases } from './config/reload.js';
import type { Config } from './config/schema.js';
import { Listener, type ListenerOptions } from './frontend/listener.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type ProxyMetrics } from './metrics/metrics.js';
import { metricsSource } from './proxy-metrics.js';
import { loadParser } from './sql/parser.js';
import path from 'node:path';
import { loadPlugins, pluginDatabases } from './plugins/registry.js';
import { closeReshards } from './reshard/job.js';
import { renewParticipants, startParticipants } from './reshard/participant.js';
import type { PluginHost } from './plugins/host.js';

export interface ProxyOptions {
  configPath?: string;
  logger?: Logger;
  /** Set in a worker process (src/workers): its number and where cancels for other workers' clients go. */
  worker?: ListenerOptions['worker'];
}

export interface Proxy {
  address: { host: string; port: number };
  adminAddress?: { host: string; port: number };
  /** The metrics of this proxy: what /metrics serves, or what a worker hands the primary's aggregator. */
  registry: ProxyMetrics['registry'];
  /** A client's CancelRequest that reached another worker first. */
  cancel(pid: number, secret: number): void;
  /** Applies a new config: unchanged databases keep their clients; changed ones drain and restart. */
  reload(config: Config): Promise<void>;
  /** Graceful: stop accepting, let transactions finish (up to shutdown_timeout), close everything. */
  close(): Promise<void>;
}

function listenerOptions(
  config: Config,
  databases: Map<string, Database>,
  openAdminConsole?: ListenerOptions['openAdminConsole'],
  worker?: ListenerOptions['worker'],
): ListenerOptions {
  const users = new Map(config.users.map((u) => [u.name, u]));
  return {
    maxStartupBytes: config.limits.max_startup_packet_bytes,
    maxMessageBytes: config.limits.max_message_bytes,
    maxClients: config.limits.max_client_connections,
    maxLoginsInProgress: config.limits.max_logins_in_progress ?? config.limits.max_client_connections,
    tls: config.tls
      ? tls.createSecureContext({
          cert: fs.readFileSync(config.tls.cert),
          key: fs.readFileSync(config.tls.key),
        })
      : null,
    findUser: (name) => users.get(name),
    findDatabase: (name) => databases.get(name),
    openAdminConsole,
    worker,
  };
}

export async function startProxy(initial: Config, opts: ProxyOptions = {}): Promise<Proxy> {
  let config = initial;
  const log = opts.logger ?? createLogger(config.log);
  await loadParser();
  const databases = await startDatabases(config, log);
  const openConsole = adminConsole(
    {
      config: () => config,
      databases: () => databases,
      sessions: () => listener.sessions.values(),
      peer: (pid) => listener.peers.get(pid),
      get registry() {
        return metrics.registry;
      },
      async reload() {
        if (!opts.configPath) throw new Error('the proxy was started without a config file to re-read');
        await proxy.reload(loadConfigFile(opts.configPath));
      },
    },
    log,
  );
  const listener = new Listener(listenerOptions(config, databases, openConsole, opts.worker), log);
  const listen = parseHostPort(config.listen);
  const metrics = createMetrics(metricsSource(databases, listener));
  // Plugins are set up before the first client can connect, so no statement slips past them.
  const plugins = await startPlugins(config, opts, log, metrics).catch(async (err: unknown) => {
    await Promise.all([...databases.values()].map((db) => db.close()));
    throw err;
  });
  const attachPlugins = (db: Database) => {
    db.plugins = plugins.names.length > 0 ? plugins : null;
    db.statementMetrics = metrics.statements;
  };
  for (const db of databases.values()) attachPlugins(db);
  let participants = await startParticipants(databases.values(), log);
  const address = await listener.listen(listen.host, listen.port);
  const timeouts = sweepTimeouts(listener);
  const admin = config.admin ? await startAdmin(config.admin, listener, metrics) : undefined;
  log.info('polyproxy listening', {
    listen: `${address.host}:${address.port}`,
    admin: config.admin,
    config: opts.configPath,
  });

  const proxy: Proxy = {
    address,
    adminAddress: admin?.address,
    registry: metrics.registry,
    cancel: (pid, secret) => listener.cancel(pid, secret),
    async reload(next) {
      const retired = await replaceDatabases(config, next, databases, (name) => {
        const db = new Database(name, next.databases[name], log);
        attachPlugins(db);
        return db;
      });
      if (JSON.stringify(next.plugins) !== JSON.stringify(config.plugins))
        log.warn('plugin settings changed: they take effect when the proxy restarts');
      config = next;
      participants = await renewParticipants(participants, databases.values(), log);
      listener.options = listenerOptions(next, databases, openConsole, opts.worker);
      log.info('configuration reloaded', retired.diff as unknown as Record<string, unknown>);
      await Promise.all(
        retired.databases.map(async (db) => {
          await listener.drainDatabase(db, next.shutdown_timeout);
          await db.close();
        }),
      );
    },
    async close() {
      clearInterval(timeouts);
      await listener.shutdown(config.shutdown_timeout);
      await plugins.stop();
      await Promise.all([...participants.map((p) => p.stop()), closeReshards(databases.values())]);
      await Promise.all([...databases.values()].map((db) => db.close()));
      await new Promise<void>((resolve) => (admin ? admin.server.close(() => resolve()) : resolve()));
      log.info('polyproxy stopped');
    },
  };
  return proxy;
}

async function startDatabases(config: Config, log: Logger): Promise<Map<string, Database>> {
  const databases = new Map<string, Database>();
  for (const [name, dbConfig] of Object.entries(config.databases))
    databases.set(name, new Database(name, dbConfig, log));
  await Promise.all([...databases.values()].map((db) => db.start()));
  return databases;
}

/**
 * Takes removed and changed databases out of `databases` and starts the added and changed ones of `next` in
 * their place; the retired ones are returned for the caller to drain once the new config is in force.
 */
async function replaceDatabases(
  config: Config,
  next: Config,
  databases: Map<string, Database>,
  create: (name: string) => Database,
): Promise<{ diff: ReturnType<typeof diffDatabases>; databases: Database[] }> {
  const diff = diffDatabases(config, next);
  const retired: Database[] = [];
  for (const name of [...diff.removed, ...diff.changed]) {
    retired.push(databases.get(name)!);
    databases.delete(name);
  }
  for (const name of [...diff.added, ...diff.changed]) {
    const db = create(name);
    await db.start();
    databases.set(name, db);
  }
  return { diff, databases: retired };
}

/** The pools' timeouts (query_timeout, idle_transaction_timeout): one sweep, no timer per statement. */
function sweepTimeouts(listener: Listener): NodeJS.Timeout {
  const timeouts = setInterval(() => {
    const now = Date.now();
    for (const s of listener.sessions.values()) s.checkTimeouts(now);
  }, timeoutSweepMs);
  timeouts.unref();
  return timeouts;
}

/** The admin HTTP endpoint (/metrics, /healthz, /readyz) and the address it bound. */
async function startAdmin(
  hostPort: string,
  listener: Listener,
  metrics: ProxyMetrics,
): Promise<{ server: http.Server; address: { host: string; port: number } }> {
  const a = parseHostPort(hostPort);
  const server = await startAdminHttp(a.host, a.port, {
    registry: metrics.registry,
    ready: () => listener.accepting,
  });
  const bound = server.address() as { address: string; port: number };
  return { server, address: { host: bound.address, port: bound.port } };
}

/** How often the pools' timeouts are checked: their resolution. */
const timeoutSweepMs = 500;

/** Loads and starts the configured plugins; their metrics go to the proxy's registry. */
async function startPlugins(
  config: Config,
  opts: ProxyOptions,
  log: Logger,
  metrics: ProxyMetrics,
): Promise<PluginHost> {
  const plugins = await loadPlugins(config.plugins, {
    configDir: opts.configPath ? path.dirname(path.resolve(opts.configPath)) : process.cwd(),
    log,
    metricsFor: (name) => metrics.plugin(name),
    databases: pluginDatabases(config.databases),
    record: (plugin, hook, seconds, failed) =>
      metrics.statements.pluginCall({ plugin, hook, seconds, failed }),
  });
  await plugins.start();
  return plugins;
}
