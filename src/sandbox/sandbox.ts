// `polyproxy sandbox` / `npm start`: the proxy in front of a local PostgreSQL primary and replica, or embedded PGlite.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import { createLogger, type Logger } from '../logger.js';
import { startProxy } from '../proxy.js';
import { onExit, setCleanupLogger, stopAll } from './cleanup.js';
import { pgBinDir } from './pg-bin.js';
import { startPglite } from './pglite.js';
import { freePort, isPortFree } from './ports.js';
import { startCluster } from './postgres.js';
import { startSandboxOutbox } from './sandbox-outbox.js';
import { startSandboxStores } from './sandbox-stores.js';
import {
  sandboxAdmin,
  sandboxConfigYaml,
  sandboxDatabase,
  sandboxUser,
  type SandboxTopology,
} from './sandbox-config.js';
import { adminDatabaseName } from '../config/schema.js';

/** pgbouncer's port, offered when free because users already know it; never required. */
const familiarPort = 6432;

type Backend = Pick<SandboxTopology, 'backend' | 'poolSize' | 'primary' | 'replicas' | 'description'> & {
  dir: string;
};

async function postgresBackend(logger: Logger): Promise<Backend> {
  logger.info('starting PostgreSQL primary and streaming replica');
  const cluster = await startCluster({ shards: 1, replicasPerShard: 1 });
  const { primary, replicas } = cluster.shards[0];
  await primary.psql(`CREATE DATABASE ${sandboxDatabase}`);
  return {
    dir: cluster.baseDir,
    backend: { user: primary.user, password: cluster.password, database: sandboxDatabase },
    poolSize: 10,
    primary: `${primary.host}:${primary.port}`,
    replicas: replicas.map((r) => `${r.host}:${r.port}`),
    description: `PostgreSQL in ${cluster.baseDir}`,
  };
}

async function pgliteBackend(logger: Logger): Promise<Backend> {
  const why =
    process.env.POLYPROXY_SANDBOX === 'pglite' ? 'POLYPROXY_SANDBOX=pglite' : 'PostgreSQL binaries not found';
  logger.info(`${why}: starting embedded PGlite`);
  const dir = await mkdtemp(join(tmpdir(), 'polyproxy-sandbox-'));
  onExit({
    stop: () => rm(dir, { recursive: true, force: true }),
    kill: () => rmSync(dir, { recursive: true, force: true }),
  });
  const pglite = await startPglite();
  // PGlite lives in this process, so it ends with it; only a graceful stop is needed.
  onExit({ stop: () => pglite.stop(), kill: () => {} });
  return {
    dir,
    backend: { user: pglite.user, password: '', database: pglite.database },
    // PGlite runs one session for all connections: one server connection keeps transactions apart.
    poolSize: 1,
    primary: `${pglite.host}:${pglite.port}`,
    replicas: [],
    description: 'embedded PGlite (no replicas)',
  };
}

function usePglite(): boolean {
  return process.env.POLYPROXY_SANDBOX === 'pglite' || pgBinDir() === null;
}

/** Starts everything, prints how to connect, and runs until Ctrl-C (SIGINT) or SIGTERM stops the proxy, then the servers. */
export async function runSandbox(): Promise<void> {
  const logger = createLogger({ level: 'info', format: 'pretty' });
  setCleanupLogger(logger);
  try {
    const pglite = usePglite();
    const backend = pglite ? await pgliteBackend(logger) : await postgresBackend(logger);
    const stores = await startSandboxStores(logger);
    // Publishing reads a logical replication slot, which PGlite has not.
    const outbox = pglite ? { plugins: {}, lines: [] } : await startSandboxOutbox(logger, backend);
    const plugins = { ...stores.plugins, ...outbox.plugins };
    const port = (await isPortFree(familiarPort)) ? familiarPort : await freePort();
    const configPath = join(backend.dir, 'polyproxy.yaml');
    const admin = `127.0.0.1:${await freePort()}`;
    await writeFile(
      configPath,
      sandboxConfigYaml({ ...backend, listen: `127.0.0.1:${port}`, admin, plugins }),
    );
    const proxy = await startProxy(loadConfigFile(configPath), { configPath, logger });
    onExit({ stop: () => proxy.close(), kill: () => {} });
    const { host, port: listening } = proxy.address;
    const lines = [
      '',
      `polyproxy sandbox: ${backend.description}`,
      `  primary   ${backend.primary}`,
      ...backend.replicas.map((r) => `  replica   ${r}`),
      ...stores.lines,
      ...outbox.lines,
      `  config    ${configPath}`,
      ...(proxy.adminAddress
        ? [`  metrics   http://${proxy.adminAddress.host}:${proxy.adminAddress.port}/metrics`]
        : []),
      '',
      'Connect with:',
      `  psql "postgres://${sandboxUser.name}:${sandboxUser.password}@${host}:${listening}/${sandboxDatabase}"`,
      'Admin console (SHOW POOLS, SHOW CLIENTS, …):',
      `  psql "postgres://${sandboxAdmin.name}:${sandboxAdmin.password}@${host}:${listening}/${adminDatabaseName}"`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } catch (err) {
    await stopAll();
    throw err;
  }
  // The proxy and servers keep running; the signal handler in cleanup.ts stops them and exits.
  await new Promise<never>(() => {});
}
