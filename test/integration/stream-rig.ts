// One set-up for the change-stream tests: an own primary (wal_level=logical) with database `app`, a direct client, the
// brokers a test asks for, and proxies over the primary, in this process or as the built CLI that a test may SIGKILL.
import type { SQSClient } from '@aws-sdk/client-sqs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { startElasticMq, type ElasticMqServer } from '../../src/sandbox/elasticmq.js';
import { startCluster, type Cluster, type PgServer } from '../../src/sandbox/postgres.js';
import { freePort } from '../../src/sandbox/ports.js';
import { waitUntilListening, type Managed } from '../../src/sandbox/process.js';
import { startRabbitMq, type RabbitMqServer } from '../../src/sandbox/rabbitmq.js';
import { startRedis, type RedisServer } from '../../src/sandbox/redis.js';
import { spawnProxy as spawnCli } from './helpers/proxy-process.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { sqsClient } from './publish-helpers.js';

export interface StreamRigOptions {
  /** Servers started beside the primary; only these may be read from the rig. */
  rabbitmq?: boolean;
  sqs?: boolean;
  redis?: boolean;
  /** SQL run on `app` before any proxy starts. */
  schema?: string;
}

/** The built proxy in a process (and process group) of its own. */
export interface SpawnedProxy {
  port: number;
  adminPort: number;
  process: Managed;
  /** SIGKILL to its whole process group, as a crash would end it; resolves once it exited. */
  kill(): Promise<void>;
}

/** Plugin settings by plugin name (`publish`, `cache`), as the config's `plugins:` section holds them. */
export type Plugins = Record<string, unknown>;

export interface StreamRig {
  primary: PgServer;
  password: string;
  /** Straight to PostgreSQL, bypassing every proxy. */
  direct: pg.Client;
  readonly rabbit: RabbitMqServer;
  readonly elastic: ElasticMqServer;
  readonly sqs: SQSClient;
  readonly redis: RedisServer;
  /** A proxy in this process with these plugins; users `app` and the admin `ops` (password ops-secret). */
  startProxy(plugins: Plugins): Promise<TestProxy>;
  /** The built CLI with these plugins, once it listens. */
  spawnProxy(plugins: Plugins): Promise<SpawnedProxy>;
  /** Ends every proxy, the direct client and every server, whatever state the test left them in. */
  stop(): Promise<void>;
}

interface Servers {
  cluster: Cluster;
  rabbit?: RabbitMqServer;
  elastic?: ElasticMqServer;
  redis?: RedisServer;
}

/** Starts the asked-for servers in parallel; a failure stops those that did start. */
async function startServers(o: StreamRigOptions): Promise<Servers> {
  const starts = [
    startCluster({ shards: 1, replicasPerShard: 0 }),
    o.rabbitmq ? startRabbitMq() : undefined,
    o.sqs ? startElasticMq() : undefined,
    o.redis ? startRedis() : undefined,
  ] as const;
  const results = await Promise.allSettled(starts);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const value = <T>(r: PromiseSettledResult<T>) => (r.status === 'fulfilled' ? r.value : undefined);
  const [cluster, rabbit, elastic, redis] = [
    value(results[0]),
    value(results[1]),
    value(results[2]),
    value(results[3]),
  ];
  if (failed) {
    await Promise.allSettled([cluster, rabbit, elastic, redis].map((server) => server?.stop()));
    throw failed.reason;
  }
  return { cluster: cluster!, rabbit, elastic, redis };
}

function required<T>(server: T | undefined, name: string): T {
  if (server === undefined) throw new Error(`the stream rig was not asked to start ${name}`);
  return server;
}

export async function startStreamRig(o: StreamRigOptions = {}): Promise<StreamRig> {
  const servers = await startServers(o);
  const primary = servers.cluster.shards[0]!.primary;
  const password = servers.cluster.password;
  const backend = { user: 'postgres', password, database: 'app' };
  const database = {
    backend,
    pool: { mode: 'transaction', size: 2 },
    shards: [{ primary: `${primary.host}:${primary.port}` }],
  };
  const direct = new pg.Client({ host: primary.host, port: primary.port, ...backend });
  const sqs = servers.elastic ? sqsClient(servers.elastic.endpoint) : undefined;
  const proxies: TestProxy[] = [];
  const spawned: SpawnedProxy[] = [];
  let dir: string | undefined;
  const stop = async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all(spawned.map((s) => s.process.stop()));
    await direct.end().catch(() => {});
    sqs?.destroy();
    const { cluster, rabbit, elastic, redis } = servers;
    await Promise.all([rabbit?.stop(), elastic?.stop(), redis?.stop(), cluster.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  try {
    await primary.psql('CREATE DATABASE app');
    await direct.connect();
    if (o.schema) await direct.query(o.schema);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    primary,
    password,
    direct,
    get rabbit() {
      return required(servers.rabbit, 'RabbitMQ');
    },
    get elastic() {
      return required(servers.elastic, 'ElasticMQ');
    },
    get sqs() {
      return required(sqs, 'ElasticMQ');
    },
    get redis() {
      return required(servers.redis, 'Redis');
    },
    async startProxy(plugins) {
      const proxy = await startTestProxy({
        databasesYaml: `  app: ${JSON.stringify(database)}`,
        pluginsYaml: Object.entries(plugins)
          .map(([name, settings]) => `  ${name}: ${JSON.stringify(settings)}`)
          .join('\n'),
        extraUsers: ['{ name: ops, password: ops-secret, admin: true }'],
      });
      proxies.push(proxy);
      return proxy;
    },
    async spawnProxy(plugins) {
      dir ??= await mkdtemp(join(tmpdir(), 'polyproxy-stream-rig-'));
      const proxy = await spawnCliProxy(join(dir, `polyproxy-${spawned.length}.yaml`), database, plugins);
      spawned.push(proxy);
      return proxy;
    },
    stop,
  };
}

/** The built CLI over `app` with these plugins, its config written to `configPath`; a failed start stops it. */
async function spawnCliProxy(configPath: string, app: unknown, plugins: Plugins): Promise<SpawnedProxy> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const config = {
    listen: `127.0.0.1:${port}`,
    admin: `127.0.0.1:${adminPort}`,
    workers: 1,
    log: { level: 'warn' },
    users: [{ name: 'app', password: 'app-secret' }],
    databases: { app },
    plugins,
  };
  await writeFile(configPath, stringify(config));
  const child = spawnCli(configPath);
  await waitUntilListening(child, 'polyproxy', port);
  const kill = async () => {
    if (child.exited() === null) process.kill(-child.pid, 'SIGKILL');
    await child.stop();
  };
  return { port, adminPort, process: child, kill };
}

/** The sum of every sample of a metric family on an admin address (0 when absent). */
export async function metricSum(adminPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').at(-1));
  return sum;
}

/** The rows of SHOW STREAMS on a rig proxy's admin console. */
export async function showStreams(proxy: TestProxy): Promise<Record<string, string | null>[]> {
  const admin = new pg.Client({ ...proxy.client('ops', 'polyproxy'), password: 'ops-secret' });
  await admin.connect();
  try {
    return (await admin.query<Record<string, string | null>>('SHOW STREAMS')).rows;
  } finally {
    await admin.end();
  }
}
