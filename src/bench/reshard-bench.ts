// Resharding at its target scale: N old and M new PostgreSQL servers on loopback, a proxy, a table of --rows rows
// and --clients clients writing and reading through the proxy for the whole RESHARD ... TO, FINISH, then the ledger.
// `node dist/bench/reshard-bench.js [--rows 1000000] [--clients 16] [--from 2] [--to 3] [--timeout 1800] [--min-idle 0]`
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { stringify } from 'yaml';
import { hashShard } from '../router/sharding/pg-hash.js';
import { freePort } from '../sandbox/ports.js';
import { startCluster, type PgServer } from '../sandbox/postgres.js';
import { spawnManaged, waitUntilListening, type Managed } from '../sandbox/process.js';
import { checkLedger } from './reshard-check.js';
import { initialValue, runClient, type ClientResult } from './reshard-clients.js';
import { readProxyLog } from './reshard-log.js';
import { report } from './reshard-report.js';
import { SlotLag } from './reshard-slots.js';
import { ReshardWatch } from './reshard-watch.js';
import { runScript } from './script-main.js';

const cliPath = fileURLToPath(new URL('../cli.js', import.meta.url));
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const padding = 'x'.repeat(60);

interface Options {
  rows: number;
  clients: number;
  from: number;
  to: number;
  timeoutS: number;
  /** pool.min_idle: the new shards' pools open that many connections before the pause. */
  minIdle: number;
}

function flag(argv: string[], name: string, fallback: number, least = 1): number {
  const at = argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < least) throw new Error(`--${name}: expected an integer ≥ ${least}`);
  return value;
}

/** The initial rows of one old shard as COPY text, in chunks of 5,000 rows. */
function* shardRows(rows: number, shard: number, shards: number): Generator<Buffer> {
  let batch: string[] = [];
  for (let id = 1; id <= rows; id++) {
    if (hashShard('int', BigInt(id), shards) !== shard) continue;
    batch.push(`${id}\t${initialValue(id)}\tinitial ${id} ${padding}`);
    if (batch.length === 5000) {
      yield Buffer.from(batch.join('\n') + '\n');
      batch = [];
    }
  }
  if (batch.length > 0) yield Buffer.from(batch.join('\n') + '\n');
}

const direct = (server: PgServer): pg.ClientConfig => ({
  host: server.host,
  port: server.port,
  user: 'postgres',
  password: server.password,
  database: 'bench',
});

/** The table on every server, its rows on the old ones where the old map puts them; its size in bytes. */
async function fillOld(servers: PgServer[], o: Options): Promise<number> {
  await Promise.all(servers.map((s) => s.psql('CREATE DATABASE bench')));
  const old = servers.slice(0, o.from);
  let bytes = 0;
  for (const [shard, server] of old.entries()) {
    await server.psql(
      'CREATE TABLE items (id bigint PRIMARY KEY, v int NOT NULL, note text NOT NULL); CREATE INDEX items_v ON items (v)',
      'bench',
    );
    const c = new pg.Client(direct(server));
    await c.connect();
    try {
      await pipeline(
        Readable.from(shardRows(o.rows, shard, o.from)),
        c.query(copyFrom('COPY items FROM STDIN')),
      );
      await c.query('VACUUM ANALYZE items');
      bytes += Number((await c.query("SELECT pg_table_size('items') AS b")).rows[0].b);
    } finally {
      await c.end();
    }
    log(`old shard ${shard} filled`);
  }
  return bytes;
}

async function startProxy(servers: PgServer[], o: Options, dir: string) {
  const [port] = [await freePort()];
  const shard = (s: PgServer) => ({ primary: `${s.host}:${s.port}` });
  const config = {
    listen: `127.0.0.1:${port}`,
    log: { level: 'info' },
    workers: 1,
    users: [
      { name: 'app', password: 'bench-app' },
      { name: 'ops', password: 'bench-ops', admin: true },
    ],
    databases: {
      bench: {
        backend: { user: 'postgres', password: servers[0]!.password, database: 'bench' },
        pool: { size: 12, min_idle: o.minIdle },
        shards: servers.slice(0, o.from).map(shard),
        sharding: { tables: { items: 'id' } },
        reshard: { pause_timeout: '10s', targets: { next: { shards: servers.slice(o.from).map(shard) } } },
      },
    },
  };
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'polyproxy.yaml');
  await writeFile(path, stringify(config), { mode: 0o600 });
  const logPath = join(dir, 'proxy.log');
  // stderr (the JSON log) to a file: the cutover's own timings are read from it afterwards.
  const proxy = spawnManaged(
    'sh',
    ['-c', 'exec "$0" "$@" 2>"$PROXY_LOG"', process.execPath, cliPath, '--config', path],
    {
      cwd: dir,
      env: { ...process.env, PROXY_LOG: logPath },
    },
  );
  await waitUntilListening(proxy, 'polyproxy', port);
  const at = (user: string, password: string, database: string): pg.ClientConfig => ({
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
  });
  return { proxy, logPath, app: at('app', 'bench-app', 'bench'), admin: at('ops', 'bench-ops', 'polyproxy') };
}

/** Rejects at `deadline` with what was going on, so a stuck run ends with a message instead of hanging. */
function bounded<T>(work: Promise<T>, deadline: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`deadline passed: ${what()}`)),
      Math.max(0, deadline - Date.now()),
    );
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

async function reshardUnderLoad(
  o: Options,
  app: pg.ClientConfig,
  adminConfig: pg.ClientConfig,
  oldPrimaries: pg.ClientConfig[],
  deadline: number,
) {
  let stop = false;
  const slotLag = new SlotLag(oldPrimaries);
  const clients = Array.from({ length: o.clients }, (_, worker) =>
    runClient({
      config: app,
      worker,
      clients: o.clients,
      initialRows: o.rows,
      oldShards: o.from,
      newShards: o.to,
      maxOps: 10_000_000,
      stopped: () => stop || Date.now() > deadline,
    }),
  );
  const admin = new pg.Client(adminConfig);
  await admin.connect();
  const watch = new ReshardWatch(admin, 'bench');
  try {
    // A quarter of a minute of load first: latency before the reshard, on warm connections.
    await sleep(15_000);
    const reshardStart = Date.now();
    log(`RESHARD bench TO next (${o.from} -> ${o.to})`);
    await admin.query('RESHARD bench TO next');
    let shown = '';
    const row = await watch.untilSettled(deadline, (r) => {
      const line = `${r.phase}: ${r.rows_copied ?? 0} rows copied, lag ${r.lag_bytes ?? '-'} bytes`;
      if (r.phase === shown) return;
      shown = String(r.phase);
      log(line);
    });
    const switchedAt = Date.now();
    let finishMs = 0;
    if (row.status === 'switched') {
      log('switched; RESHARD bench FINISH');
      const t0 = Date.now();
      await admin.query('RESHARD bench FINISH');
      finishMs = Date.now() - t0;
    } else log(`the reshard ended ${row.status}: ${row.error}`);
    await watch.untilSettled(
      deadline,
      () => {},
      () => true,
    );
    await sleep(5000);
    stop = true;
    const results: ClientResult[] = await Promise.all(clients);
    return { watch, slotLag, row: watch.last!, reshardStart, switchedAt, finishMs, results };
  } finally {
    stop = true;
    await slotLag.stop().catch(() => {});
    await admin.end().catch(() => {});
  }
}

async function main(argv: string[]): Promise<void> {
  const o: Options = {
    rows: flag(argv, 'rows', 1_000_000),
    clients: flag(argv, 'clients', 16),
    from: flag(argv, 'from', 2),
    to: flag(argv, 'to', 3),
    timeoutS: flag(argv, 'timeout', 1800),
    minIdle: flag(argv, 'min-idle', 0, 0),
  };
  const deadline = Date.now() + o.timeoutS * 1000;
  const loadStart = loadavg()[0]!;
  let step = 'starting PostgreSQL';
  const work = async () => {
    log(`starting ${o.from} + ${o.to} PostgreSQL servers`);
    const cluster = await startCluster({ shards: o.from + o.to, replicasPerShard: 0 });
    const servers = cluster.shards.map((s) => s.primary);
    step = `filling ${o.rows} rows`;
    const tableBytes = await fillOld(servers, o);
    // Outside the servers' directory, which goes when they stop: the log is kept for a look afterwards.
    const dir = await mkdtemp(join(tmpdir(), 'polyproxy-reshard-bench-'));
    log(`proxy config and log in ${dir}`);
    const { proxy, logPath, app, admin } = await startProxy(servers, o, dir);
    step = 'the reshard under load';
    const run = await reshardUnderLoad(o, app, admin, servers.slice(0, o.from).map(direct), deadline);
    step = 'the ledger check';
    const check = await checkLedger(servers.slice(o.from).map(direct), o.rows, run.results);
    const proxyLog = await readProxyLog(logPath);
    const out = report({
      ...o,
      ...run,
      proxyLog,
      tableBytes,
      check,
      load: { start: loadStart, end: loadavg()[0]! },
    });
    process.stdout.write(out.lines.join('\n') + '\n');
    await stopAll(proxy, cluster.stop);
    if (!out.ok) throw new Error('the run found failures, lost or duplicated rows (see above)');
  };
  await bounded(work(), deadline, () => `${o.timeoutS} s passed during ${step}`);
}

async function stopAll(proxy: Managed, stopCluster: () => Promise<void>): Promise<void> {
  await proxy.stop();
  await stopCluster();
}

runScript('reshard bench', main);
