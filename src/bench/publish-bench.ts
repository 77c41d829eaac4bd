// Change streams published to RabbitMQ: single-row inserts in transactions, through a polyproxy's publish plugin.
// `npm run build && node dist/bench/publish-bench.js [--changes N] [--per-transaction N] [--clients N] [--rounds N]
// [--batch N]`: per round a live burst (committed while the proxy publishes) and a backlog (committed while it is
// stopped), timed from the first commit or from the proxy's start until the slot confirmed the last change, with
// the CPU per change of the proxy, PostgreSQL and RabbitMQ.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import pg from 'pg';
import { stringify } from 'yaml';
import { runScript } from './script-main.js';
import { treeCpuTicks } from '../sandbox/pids.js';
import { freePort } from '../sandbox/ports.js';
import { startCluster, type PgServer } from '../sandbox/postgres.js';
import { spawnManaged, waitUntilListening, type Managed } from '../sandbox/process.js';
import { startRabbitMq } from '../sandbox/rabbitmq.js';
import { waitFor } from '../sandbox/wait.js';

const cliPath = fileURLToPath(new URL('../cli.js', import.meta.url));
const slot = 'bench_publish';
const log = (line: string) => process.stderr.write(`${line}\n`);

function flag(argv: string[], name: string, fallback: number): number {
  const at = argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: expected a positive integer`);
  return value;
}

/** The Erlang VM of the RabbitMQ listening on `port` (its environment names the port; its command line does not). */
function beamPid(port: number): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm.startsWith('beam') && env.includes(`RABBITMQ_NODE_PORT=${port}`)) return Number(entry);
    } catch {
      // A process that ended meanwhile.
    }
  }
  return null;
}

const postmasterPid = (server: PgServer) =>
  Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

/** CPU seconds of each named process tree since the call. */
function cpuSince(pids: Record<string, number | null>): () => Record<string, number> {
  const ticks = () =>
    Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid ? treeCpuTicks(pid) : 0]));
  const before = ticks();
  return () => {
    const after = ticks();
    return Object.fromEntries(Object.keys(pids).map((k) => [k, (after[k]! - before[k]!) / 100]));
  };
}

/** Inserts `changes` rows from `first` on, `perTx` single-row INSERTs per transaction, over `clients` connections. */
async function insertRows(
  clients: pg.Client[],
  first: number,
  changes: number,
  perTx: number,
): Promise<void> {
  let next = first;
  const end = first + changes;
  await Promise.all(
    clients.map(async (client) => {
      while (next < end) {
        const start = next;
        const stop = Math.min(end, start + perTx);
        next = stop;
        const inserts: string[] = [];
        for (let id = start; id < stop; id++)
          inserts.push(`INSERT INTO bench_events VALUES (${id}, 'event ${id}')`);
        await client.query(`BEGIN; ${inserts.join('; ')}; COMMIT`);
      }
    }),
  );
}

async function caughtUp(direct: pg.Client, timeoutMs: number): Promise<void> {
  const target = (await direct.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!
    .lsn;
  await waitFor(
    async () =>
      (
        await direct.query<{ done: boolean }>(
          'SELECT confirmed_flush_lsn >= $2::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $1',
          [slot, target],
        )
      ).rows[0]?.done === true,
    { timeoutMs, intervalMs: 20, what: `slot ${slot} to confirm ${target}` },
  );
}

async function slotActive(direct: pg.Client): Promise<void> {
  await waitFor(
    async () =>
      (await direct.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active', [slot]))
        .rowCount === 1,
    { timeoutMs: 60_000, intervalMs: 20, what: `slot ${slot} to be consumed` },
  );
}

const perChange = (cpu: Record<string, number>, changes: number) =>
  Object.entries(cpu)
    .map(([name, s]) => `${name} ${Math.round((s * 1e6) / changes)} µs`)
    .join(', ');

interface Options {
  changes: number;
  perTx: number;
  clients: number;
  rounds: number;
  /** Changes per RabbitMQ message (the table's `batch` setting). */
  batch: number;
}

/** The servers, the proxy's config and the inserting clients of a bench run. */
interface Env {
  readonly options: Options;
  readonly primary: PgServer;
  readonly channel: amqp.Channel;
  readonly clients: pg.Client[];
  readonly beam: number | null;
  startProxy(): Promise<Managed>;
  stop(): Promise<void>;
}

function proxyConfig(env: {
  port: number;
  adminPort: number;
  password: string;
  primary: PgServer;
  rabbitUrl: string;
  batch: number;
}) {
  return {
    listen: `127.0.0.1:${env.port}`,
    admin: `127.0.0.1:${env.adminPort}`,
    log: { level: 'warn' },
    workers: 1,
    users: [{ name: 'bench', password: 'bench-publish' }],
    databases: {
      bench: {
        backend: { user: 'postgres', password: env.password, database: 'bench' },
        pool: { mode: 'transaction', size: 2 },
        shards: [{ primary: `${env.primary.host}:${env.primary.port}` }],
      },
    },
    plugins: {
      publish: {
        rabbitmq: { url: env.rabbitUrl },
        slot,
        publication: slot,
        tables: {
          bench_events: { rabbitmq: { exchange: 'bench', routing_key: 'events.{op}', batch: env.batch } },
        },
      },
    },
  };
}

async function setUp(options: Options): Promise<Env> {
  log('starting PostgreSQL and RabbitMQ');
  const [cluster, rabbit] = await Promise.all([
    startCluster({ shards: 1, replicasPerShard: 0 }),
    startRabbitMq(),
  ]);
  const primary = cluster.shards[0]!.primary;
  await primary.psql('CREATE DATABASE bench');
  await primary.psql('CREATE TABLE bench_events (id bigint PRIMARY KEY, v text NOT NULL)', 'bench');
  await primary.psql(`SELECT pg_create_logical_replication_slot('${slot}', 'pgoutput')`, 'bench');
  const amqpConnection = await amqp.connect(rabbit.url);
  const channel = await amqpConnection.createChannel();
  await channel.assertExchange('bench', 'topic', { durable: true });
  // Classic queue version 2 (RabbitMQ 3.10+): ~10 % less broker CPU per persistent message than version 1, measured here.
  await channel.assertQueue('bench', { durable: true, arguments: { 'x-queue-version': 2 } });
  await channel.bindQueue('bench', 'bench', '#');
  const [port, adminPort] = [await freePort(), await freePort()];
  const dir = join(cluster.baseDir, 'publish-bench');
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, 'polyproxy.yaml');
  const config = proxyConfig({
    port,
    adminPort,
    password: cluster.password,
    primary,
    rabbitUrl: rabbit.url,
    batch: options.batch,
  });
  await writeFile(configPath, stringify(config), { mode: 0o600 });
  const clients = Array.from(
    { length: options.clients },
    () =>
      new pg.Client({
        host: primary.host,
        port: primary.port,
        user: 'postgres',
        password: cluster.password,
        database: 'bench',
      }),
  );
  // A server stopped under a client (on a failure) must not crash the bench before it cleans up.
  for (const c of clients) c.on('error', () => {});
  await Promise.all(clients.map((c) => c.connect()));
  return {
    options,
    primary,
    channel,
    clients,
    beam: beamPid(rabbit.port),
    startProxy: async () => {
      const proxy = spawnManaged(process.execPath, [cliPath, '--config', configPath], { cwd: dir });
      await waitUntilListening(proxy, 'polyproxy', port);
      return proxy;
    },
    stop: async () => {
      await Promise.all(clients.map((c) => c.end()));
      await amqpConnection.close();
      await rabbit.stop();
      await cluster.stop();
    },
  };
}

const meter = (env: Env, proxy: Managed) =>
  cpuSince({ proxy: proxy.pid, postgres: postmasterPid(env.primary), rabbitmq: env.beam });

/** Committed while the proxy publishes; timed from the first commit to the last confirmation. */
async function liveRound(env: Env, proxy: Managed, first: number): Promise<string> {
  const { changes, perTx, clients } = env.options;
  const direct = env.clients[0]!;
  await slotActive(direct);
  const cpu = meter(env, proxy);
  const started = performance.now();
  await insertRows(env.clients, first, changes, perTx);
  const committed = performance.now();
  await caughtUp(direct, 600_000);
  const done = performance.now();
  return (
    `live: ${changes} changes (${perTx} per transaction, ${clients} clients) committed in ${Math.round(committed - started)} ms, ` +
    `all confirmed after ${Math.round(done - started)} ms: ${Math.round((changes * 1000) / (done - started))} changes/s, ` +
    `last confirmed ${Math.round(done - committed)} ms after its commit; CPU per change: ${perChange(cpu(), changes)}`
  );
}

/** Committed while no proxy runs (the slot keeps the WAL); timed from the proxy's start. */
async function backlogRound(env: Env, first: number): Promise<{ line: string; proxy: Managed }> {
  const { changes, perTx } = env.options;
  await insertRows(env.clients, first, changes, perTx);
  const restarted = performance.now();
  const proxy = await env.startProxy();
  const cpu = meter(env, proxy);
  const listening = performance.now();
  await caughtUp(env.clients[0]!, 600_000);
  const drained = performance.now();
  const line =
    `backlog: ${changes} changes published ${Math.round(drained - restarted)} ms after the proxy started ` +
    `(${Math.round(listening - restarted)} ms of it to listen): ${Math.round((changes * 1000) / (drained - listening))} changes/s ` +
    `once listening; CPU per change: ${perChange(cpu(), changes)}`;
  return { line, proxy };
}

/** Every change reached the queue (batched messages count their changes), which is then emptied. */
async function checkAndPurge(env: Env): Promise<void> {
  const queued = (await env.channel.checkQueue('bench')).messageCount;
  const expected = Math.ceil(env.options.changes / env.options.batch);
  if (queued < expected) throw new Error(`RabbitMQ holds ${queued} messages, expected at least ${expected}`);
  await env.channel.purgeQueue('bench');
}

async function main(argv: string[]): Promise<void> {
  const options: Options = {
    changes: flag(argv, 'changes', 50_000),
    perTx: flag(argv, 'per-transaction', 100),
    clients: flag(argv, 'clients', 2),
    rounds: Math.min(flag(argv, 'rounds', 1), 10),
    batch: flag(argv, 'batch', 1),
  };
  const env = await setUp(options);
  let next = 1;
  let proxy = await env.startProxy();
  const results: string[] = [`RabbitMQ, ${options.batch} change(s) per message`];
  for (let round = 1; round <= options.rounds; round++) {
    const live = await liveRound(env, proxy, next);
    next += options.changes;
    log(`round ${round}/${options.rounds} ${live}`);
    await checkAndPurge(env);
    await proxy.stop();
    const backlog = await backlogRound(env, next);
    next += options.changes;
    proxy = backlog.proxy;
    log(`round ${round}/${options.rounds} ${backlog.line}`);
    await checkAndPurge(env);
    results.push(live, backlog.line);
  }
  process.stdout.write(`${results.join('\n')}\n`);
  await proxy.stop();
  await env.stop();
}

runScript('publish bench', main);
