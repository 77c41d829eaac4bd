// Real Redis for the sandbox and the tests: loopback only, free ports, own directories, nothing persisted, and
// ways to make a server fail on purpose (SIGKILL, restart on the same port); also Sentinel and Cluster set-ups.
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit } from './cleanup.js';
import { freePort } from './ports.js';
import { run, spawnManaged, waitUntilListening, type Managed } from './process.js';
import { ServerProcess } from './server-process.js';
import { waitFor } from './wait.js';

export interface RedisServer {
  host: '127.0.0.1';
  port: number;
  /** redis://127.0.0.1:<port> */
  url: string;
  /** Stops the server (SIGTERM) and removes its directory. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash or a pulled plug would end it: every key is gone, clients see the connection drop. */
  kill(): Promise<void>;
  /** Starts it again, empty, on the same port (after stopping it if it still runs). */
  restart(): Promise<void>;
}

export interface RedisOptions {
  /** Extra `--name value` arguments, e.g. ['--maxmemory', '10mb']. */
  args?: string[];
}

function serverArgs(port: number, dir: string, extra: string[]): string[] {
  return [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir,
    // No RDB snapshots and no AOF: a restart starts empty, as the cache's tests expect.
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...extra,
  ];
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'polyproxy-redis-'));
  // Registered before the server so that it runs after the server was stopped.
  const unregisterDir = onExit({
    stop: () => rm(dir, { recursive: true, force: true }),
    kill: () => rmSync(dir, { recursive: true, force: true }),
  });
  const port = await freePort();
  const server: ServerProcess = new ServerProcess(
    dir,
    unregisterDir,
    async () => {
      const started = spawnManaged('redis-server', serverArgs(port, dir, opts.args ?? []), { cwd: dir });
      await waitUntilListening(started, 'redis-server', port);
      server.child = started;
    },
    (killed) => waitFor(() => killed.exited() !== null, { what: 'redis-server to die', timeoutMs: 5000 }),
  );
  await server.start();
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: server.stop,
    kill: server.kill,
    restart: server.restart,
  };
}

export interface RedisSentinel {
  /** The master Sentinel monitors. */
  master: RedisServer;
  /** host:port of the one Sentinel. */
  sentinel: string;
  /** The master group name. */
  name: string;
  stop(): Promise<void>;
}

/** A master and one Sentinel that monitors it as `mymaster`; resolves once the Sentinel knows the master. */
export async function startRedisSentinel(): Promise<RedisSentinel> {
  const name = 'mymaster';
  const master = await startRedis();
  const dir = await mkdtemp(join(tmpdir(), 'polyproxy-sentinel-'));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  const unregisterDir = onExit({
    stop: removeDir,
    kill: () => rmSync(dir, { recursive: true, force: true }),
  });
  let child: Managed | null = null;
  const stop = async () => {
    await child?.stop();
    await master.stop();
    unregisterDir();
    await removeDir();
  };
  try {
    const port = await freePort();
    const config = join(dir, 'sentinel.conf');
    // Sentinel rewrites its config file as it learns, so the file lives in the directory it owns.
    await writeFile(
      config,
      [
        'bind 127.0.0.1',
        `port ${port}`,
        `dir ${dir}`,
        `sentinel monitor ${name} ${master.host} ${master.port} 1`,
        `sentinel down-after-milliseconds ${name} 2000`,
        '',
      ].join('\n'),
    );
    child = spawnManaged('redis-server', [config, '--sentinel'], { cwd: dir });
    await waitUntilListening(child, 'redis-sentinel', port);
    await waitFor(
      async () =>
        (await run('redis-cli', ['-p', String(port), 'sentinel', 'get-master-addr-by-name', name])).includes(
          String(master.port),
        ),
      { what: 'Sentinel to know the master', timeoutMs: 10_000 },
    );
    return { master, sentinel: `127.0.0.1:${port}`, name, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface RedisCluster {
  /** host:port of every master. */
  nodes: string[];
  stop(): Promise<void>;
}

/** A Redis Cluster of `masters` masters without replicas, its slots spread over them; resolves once it is ok. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.allSettled(servers.map((server) => server.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      // The bus port is set too: the default (port + 10000) may be taken, or past 65535.
      const busPort = await freePort();
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];
      servers.push(await startRedis({ args: [...args, '--cluster-port', String(busPort)] }));
    }
    const nodes = servers.map((server) => `${server.host}:${server.port}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    for (const server of servers) {
      await waitFor(
        async () =>
          (await run('redis-cli', ['-p', String(server.port), 'cluster', 'info'])).includes(
            'cluster_state:ok',
          ),
        { what: `cluster node ${server.port} to report cluster_state:ok`, timeoutMs: 20_000 },
      );
    }
    return { nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
