// A real MySQL-compatible server for tests and the sandbox: MariaDB from Debian's packages, loopback only, own data directory.
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit } from './cleanup.js';
import { freePort } from './ports.js';
import { run, spawnManaged, waitUntilListening } from './process.js';
import { ServerProcess } from './server-process.js';

export interface MariaDb {
  host: '127.0.0.1';
  port: number;
  /** User `root` without a password over TCP (the server runs with --skip-grant-tables). */
  user: 'root';
  /** mysql://root@127.0.0.1:<port>/ */
  url: string;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would end it; restart() brings it back on the same port with its data. */
  kill(): Promise<void>;
  restart(): Promise<void>;
}

const binaries = ['/usr/sbin/mariadbd', '/usr/bin/mariadb-install-db'];

export function mariaDbInstalled(): boolean {
  return binaries.every((path) => existsSync(path));
}

/** Starts MariaDB on a free 127.0.0.1 port with a fresh data directory; scripts/install-mariadb.sh installs it. */
export async function startMariaDb(): Promise<MariaDb> {
  if (!mariaDbInstalled()) throw new Error('MariaDB is not installed; run scripts/install-mariadb.sh');
  const dir = await mkdtemp(join(tmpdir(), 'polyproxy-mariadb-'));
  const unregisterDir = onExit({
    stop: () => rm(dir, { recursive: true, force: true }),
    kill: () => rmSync(dir, { recursive: true, force: true }),
  });
  const dataDir = join(dir, 'data');
  const port = await freePort();
  // Running as root needs --user=root; the other options keep it away from the system's own instance.
  const common = ['--no-defaults', `--datadir=${dataDir}`, '--user=root'];
  const server: ServerProcess = new ServerProcess(dir, unregisterDir, async () => {
    const started = spawnManaged('/usr/sbin/mariadbd', [
      ...common,
      '--bind-address=127.0.0.1',
      `--port=${port}`,
      `--socket=${join(dir, 'mysqld.sock')}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      '--skip-grant-tables',
      '--skip-name-resolve',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_general_ci',
      '--innodb-buffer-pool-size=64M',
      '--innodb-log-file-size=16M',
      '--skip-log-bin',
    ]);
    // Known at once, so a stop during start-up waits for this process to exit before its directory is removed.
    server.child = started;
    try {
      await waitUntilListening(started, 'mariadbd', port);
    } catch (error) {
      if (server.child === started) server.child = null;
      throw error;
    }
  });
  await server.start(async () => {
    await run('/usr/bin/mariadb-install-db', [
      ...common,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ]);
    await server.launch();
  });
  return {
    host: '127.0.0.1',
    port,
    user: 'root',
    url: `mysql://root@127.0.0.1:${port}/`,
    stop: server.stop,
    kill: server.kill,
    restart: server.restart,
  };
}
