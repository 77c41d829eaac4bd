// A real PgBouncer in front of a sandbox PostgreSQL server, as a peer for comparisons and tests.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './ports.js';
import type { PgServer } from './postgres.js';
import { chownForServer, openForServer, spawnManaged, waitUntilListening } from './process.js';

export interface PgBouncerOptions {
  baseDir: string;
  backend: PgServer;
  /** The database clients connect to; it has the same name on the backend. */
  database: string;
  poolMode: 'transaction' | 'session';
  poolSize: number;
  /** The client-side user, authenticated by PgBouncer with SCRAM-SHA-256. */
  user: string;
  password: string;
  maxClientConn?: number;
}

export interface PgBouncer {
  host: '127.0.0.1';
  port: number;
  /** The PgBouncer process, e.g. for measuring its CPU time. */
  pid: number;
  stop(): Promise<void>;
}

/** userlist.txt quotes with double quotes and escapes one by doubling it. */
const userlistQuote = (value: string) => `"${value.replace(/"/g, '""')}"`;
/** [databases] connection strings single-quote a value and escape a quote by doubling it. */
const connQuote = (value: string) => `'${value.replace(/'/g, "''")}'`;

function ini(opts: PgBouncerOptions, port: number, dir: string): string {
  const { backend } = opts;
  const target = [
    `host=${backend.host}`,
    `port=${backend.port}`,
    `dbname=${connQuote(opts.database)}`,
    `user=${connQuote(backend.user)}`,
    // PgBouncer rejects empty values, so a trust backend gets no password at all.
    ...(backend.password ? [`password=${connQuote(backend.password)}`] : []),
  ].join(' ');
  return [
    '[databases]',
    `${opts.database} = ${target}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    // An empty value turns off the Unix socket, which would otherwise land in /tmp.
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${join(dir, 'userlist.txt')}`,
    `pool_mode = ${opts.poolMode}`,
    `default_pool_size = ${opts.poolSize}`,
    `max_client_conn = ${opts.maxClientConn ?? 1000}`,
    `admin_users = ${opts.user}`,
    `logfile = ${join(dir, 'pgbouncer.log')}`,
    // JDBC and others send these; PgBouncer would otherwise refuse the connection.
    'ignore_startup_parameters = extra_float_digits,options',
    '',
  ].join('\n');
}

/** Starts PgBouncer on a free port and resolves once it accepts connections. */
export async function startPgBouncer(opts: PgBouncerOptions): Promise<PgBouncer> {
  const port = await freePort();
  await mkdir(opts.baseDir, { recursive: true });
  await openForServer(opts.baseDir);
  const dir = join(opts.baseDir, `pgbouncer-${port}`);
  await mkdir(dir);
  const iniPath = join(dir, 'pgbouncer.ini');
  const userlist = join(dir, 'userlist.txt');
  await writeFile(iniPath, ini(opts, port, dir), { mode: 0o600 });
  await writeFile(userlist, `${userlistQuote(opts.user)} ${userlistQuote(opts.password)}\n`, { mode: 0o600 });
  await chownForServer(dir, iniPath, userlist);
  const child = spawnManaged('pgbouncer', [iniPath], { asServerUser: true, cwd: dir });
  await waitUntilListening(child, 'pgbouncer', port);
  return { host: '127.0.0.1', port, pid: child.pid, stop: () => child.stop() };
}
