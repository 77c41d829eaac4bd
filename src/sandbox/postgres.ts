// Real PostgreSQL servers for tests and the sandbox: primaries, streaming replicas and clusters in a temp dir.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { onExit } from './cleanup.js';
import { appendSettings, baseSettings, writeHba, type AuthMethod } from './pg-files.js';
import { pgBinDir } from './pg-bin.js';
import { isAlive, killTree, waitForExitSync } from './pids.js';
import { freePort } from './ports.js';
import { chownForServer, openForServer, run } from './process.js';
import { waitFor } from './wait.js';

export type { AuthMethod } from './pg-files.js';

export interface PgServer {
  host: '127.0.0.1';
  port: number;
  dataDir: string;
  password: string;
  user: 'postgres';
  /** Fast shutdown (pg_ctl stop -m fast); a no-op when the server is not running. */
  stop(): Promise<void>;
  /** SIGKILL of the postmaster and its backends, as in a crash; for failure tests. */
  kill(): Promise<void>;
  /** Starts the server again, stopping it first when it runs. */
  restart(): Promise<void>;
  /** Turns a replica into a primary and waits until it accepts writes. */
  promote(): Promise<void>;
  /** Runs SQL through psql -At and returns its output without the final newline. */
  psql(sql: string, db?: string): Promise<string>;
}

export interface PrimaryOptions {
  baseDir: string;
  port?: number;
  password: string;
  authMethod?: AuthMethod;
  /** Extra postgresql.conf settings; they override the sandbox defaults. */
  settings?: Record<string, string>;
}

export interface ReplicaOptions {
  baseDir: string;
  port?: number;
  /** Makes the replica lag on purpose (recovery_min_apply_delay). */
  applyDelayMs?: number;
}

const host = '127.0.0.1';
const logName = 'server.log';

function binDir(): string {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found; run scripts/install-test-servers.sh');
  return bin;
}

const sqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;

function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Each server gets its own directory holding the data dir and the Unix socket. */
async function serverDir(baseDir: string, port: number): Promise<string> {
  await mkdir(baseDir, { recursive: true });
  await openForServer(baseDir);
  const dir = join(baseDir, `pg-${port}`);
  await mkdir(dir);
  await chownForServer(dir);
  return dir;
}

async function withLogTail(err: unknown, logFile: string): Promise<Error> {
  const log = await readFile(logFile, 'utf8').catch(() => '');
  const tail = log.trim().split('\n').slice(-15).join('\n');
  return new Error(
    `${err instanceof Error ? err.message : String(err)}${tail ? `\n--- ${logFile}\n${tail}` : ''}`,
  );
}

/** At the test process's exit: immediate shutdown still removes shared memory; SIGKILL only if it hangs. */
function immediateShutdown(pid: number | null): void {
  if (pid === null) return;
  process.kill(pid, 'SIGQUIT');
  if (!waitForExitSync([pid], 5000)) killTree(pid, 'SIGKILL');
}

/** Runs SQL through psql -At as postgres over TCP and returns its output without the final newline. */
async function psql(bin: string, port: number, password: string, sql: string, db: string): Promise<string> {
  const args = ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', String(port), '-U', 'postgres'];
  const out = await run(join(bin, 'psql'), [...args, '-d', db, '-c', sql], {
    env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' },
  });
  return out.replace(/\n$/, '');
}

function serverHandle(
  bin: string,
  dataDir: string,
  port: number,
  password: string,
): PgServer & { start(): Promise<void> } {
  const socketDir = dirname(dataDir);
  const logFile = join(dataDir, logName);
  const pgCtl = (...args: string[]) =>
    run(join(bin, 'pg_ctl'), [...args, '-D', dataDir], { asServerUser: true, cwd: socketDir });
  const livePid = () => {
    const pid = postmasterPid(dataDir);
    return pid !== null && isAlive(pid) ? pid : null;
  };
  let unregister: (() => void) | null = null;
  const watch = () => {
    unregister ??= onExit({
      stop: () => server.stop(),
      kill: () => immediateShutdown(livePid()),
    });
  };
  const server = {
    host,
    port,
    dataDir,
    password,
    user: 'postgres',
    async start() {
      watch();
      await pgCtl('start', '-w', '-t', '120', '-l', logFile).catch(async (err) => {
        throw await withLogTail(err, logFile);
      });
    },
    async stop() {
      unregister?.();
      unregister = null;
      if (livePid() !== null) await pgCtl('stop', '-w', '-m', 'fast');
    },
    async kill() {
      const pid = livePid();
      if (pid === null) return;
      const tree = killTree(pid, 'SIGKILL');
      await waitFor(() => !tree.some(isAlive), { what: `postmaster ${pid} and its backends to die` });
      // An unreaped zombie still answers kill(pid, 0), so PostgreSQL would take these lock files as current.
      await rm(join(dataDir, 'postmaster.pid'), { force: true });
      await rm(join(socketDir, `.s.PGSQL.${port}.lock`), { force: true });
    },
    async restart() {
      if (livePid() !== null) await pgCtl('stop', '-w', '-m', 'fast');
      await server.start();
    },
    async promote() {
      await pgCtl('promote', '-w');
    },
    psql: (sql: string, db = 'postgres') => psql(bin, port, password, sql, db),
  } satisfies PgServer & { start(): Promise<void> };
  return server;
}

async function startOrStop(server: ReturnType<typeof serverHandle>): Promise<void> {
  try {
    await server.start();
  } catch (err) {
    await server.stop().catch(() => {});
    throw err;
  }
}

/** initdb + start: superuser `postgres` with the given password, TCP on 127.0.0.1 only. */
export async function startPrimary(opts: PrimaryOptions): Promise<PgServer> {
  const bin = binDir();
  const method = opts.authMethod ?? 'scram-sha-256';
  const port = opts.port ?? (await freePort());
  const dir = await serverDir(opts.baseDir, port);
  const dataDir = join(dir, 'data');
  const pwfile = join(dir, 'pwfile');
  await writeFile(pwfile, `${opts.password}\n`, { mode: 0o600 });
  await chownForServer(pwfile);
  const initdb = [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
    '--no-instructions',
  ];
  if (opts.password) initdb.push(`--pwfile=${pwfile}`);
  try {
    await run(join(bin, 'initdb'), initdb, { asServerUser: true, cwd: dir });
  } finally {
    await rm(pwfile, { force: true });
  }
  await writeHba(dataDir, method);
  await appendSettings(dataDir, { ...baseSettings(port, dir, method), ...opts.settings });
  const server = serverHandle(bin, dataDir, port, opts.password);
  await startOrStop(server);
  if (method === 'md5' && opts.password) {
    // initdb hashed the password with SCRAM; re-hash it as md5 over the trusted Unix socket.
    const sql = `ALTER USER postgres PASSWORD ${sqlString(opts.password)}`;
    await run(join(bin, 'psql'), [
      '-X',
      '-q',
      '-h',
      dir,
      '-p',
      String(port),
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-c',
      sql,
    ]);
  }
  return server;
}

/** pg_basebackup -R -X stream from the primary, then a hot standby that answers queries. */
export async function startReplica(primary: PgServer, opts: ReplicaOptions): Promise<PgServer> {
  const bin = binDir();
  const port = opts.port ?? (await freePort());
  const dir = await serverDir(opts.baseDir, port);
  const dataDir = join(dir, 'data');
  const backup = [
    '-h',
    primary.host,
    '-p',
    String(primary.port),
    '-U',
    primary.user,
    '-D',
    dataDir,
    '-R',
    '-X',
    'stream',
    '-c',
    'fast',
    '--no-sync',
  ];
  await run(join(bin, 'pg_basebackup'), backup, {
    asServerUser: true,
    cwd: dir,
    env: { ...process.env, PGPASSWORD: primary.password },
  });
  // The backup copied the primary's log; the replica starts its own.
  await rm(join(dataDir, logName), { force: true });
  const settings: Record<string, string> = {
    port: String(port),
    unix_socket_directories: dir,
    hot_standby: 'on',
  };
  if (opts.applyDelayMs) settings.recovery_min_apply_delay = `${opts.applyDelayMs}ms`;
  await appendSettings(dataDir, settings);
  const server = serverHandle(bin, dataDir, port, primary.password);
  await startOrStop(server);
  try {
    await waitFor(async () => (await server.psql('SELECT pg_is_in_recovery()')) === 't', {
      what: `replica on port ${port} to answer in recovery`,
    });
  } catch (err) {
    await server.stop().catch(() => {});
    throw err;
  }
  return server;
}

export interface ClusterOptions {
  shards: number;
  replicasPerShard: number;
  /** When set, the last replica of every shard applies WAL this late (needs replicasPerShard >= 1). */
  delayedReplicaMs?: number;
  password?: string;
  authMethod?: AuthMethod;
  /** Defaults to a new temp dir, which stop() removes. */
  baseDir?: string;
}

export interface Cluster {
  shards: { primary: PgServer; replicas: PgServer[] }[];
  password: string;
  baseDir: string;
  stop(): Promise<void>;
}

/** Awaits every start even when one fails, so nothing is left running unseen; then reports the first failure. */
async function settleAll<T>(starts: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Starts shards in parallel, each a primary with its streaming replicas. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const ownsDir = opts.baseDir === undefined;
  const baseDir = opts.baseDir ?? (await mkdtemp(join(tmpdir(), 'polyproxy-pg-')));
  const password = opts.password ?? randomBytes(12).toString('hex');
  const started: PgServer[] = [];
  const removeDir = async () => {
    if (ownsDir) await rm(baseDir, { recursive: true, force: true, maxRetries: 5 });
  };
  const removeDirSync = () => {
    if (ownsDir) rmSync(baseDir, { recursive: true, force: true, maxRetries: 5 });
  };
  // Registered first so that it runs last, after every server in the directory stopped.
  const unregisterDir = onExit({ stop: removeDir, kill: removeDirSync });
  const stop = async () => {
    await Promise.allSettled(started.map((server) => server.stop()));
    unregisterDir();
    await removeDir();
  };
  const track = async (starting: Promise<PgServer>) => {
    const server = await starting;
    started.push(server);
    return server;
  };
  const startShard = async () => {
    const primary = await track(startPrimary({ baseDir, password, authMethod: opts.authMethod }));
    const replicas = await settleAll(
      Array.from({ length: opts.replicasPerShard }, (_, i) => {
        const delayed = opts.delayedReplicaMs && i === opts.replicasPerShard - 1;
        return track(
          startReplica(primary, { baseDir, applyDelayMs: delayed ? opts.delayedReplicaMs : undefined }),
        );
      }),
    );
    return { primary, replicas };
  };
  try {
    const shards = await settleAll(Array.from({ length: opts.shards }, startShard));
    return { shards, password, baseDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
