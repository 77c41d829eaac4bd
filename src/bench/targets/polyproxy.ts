// Target "polyproxy": the built proxy (dist/cli.js) in its own process, transaction pooling, same pool size as PgBouncer.
// Workloads with the cache on go to a second proxy process whose Redis result cache covers pgbench_accounts.
import { mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { ConfigInput } from '../../config/schema.js';
import { freePort } from '../../sandbox/ports.js';
import { spawnManaged, waitUntilListening, type Managed } from '../../sandbox/process.js';
import { startRedis } from '../../sandbox/redis.js';
import { workloadByName } from '../workloads.js';
import { initPgbench } from '../pgbench.js';
import type { BenchEnv } from '../bench-env.js';
import { poolerEndpoint, poolerUser } from './pooler-user.js';
import { runtimeCommand, type Runtime } from './runtime.js';
import type { RunningTarget, Target } from './target.js';

const cliPath = fileURLToPath(new URL('../../cli.js', import.meta.url));

/** The database name for workloads routed over the replicas. */
const routed = (env: BenchEnv) => `${env.direct.database}_routed`;
/** The database name for workloads over the shard servers. */
const sharded = (env: BenchEnv) => `${env.direct.database}_sharded`;
/** The database name for workloads over shards that are databases of the baseline server. */
const shardedHere = (env: BenchEnv) => `${env.direct.database}_sharded_here`;

/**
 * Server connections per shard: the pool size spread over the shards, so the sharded database keeps as many
 * PostgreSQL backends busy as the unsharded one (all shards share this machine's cores with it).
 */
const perShard = (env: BenchEnv, shards: number) => Math.ceil(env.options.poolSize / Math.max(1, shards));

/**
 * The server connections a sharded database has in all. Its paired unsharded run gets as many, so the pair
 * compares routing, not PostgreSQL backend counts (on two cores, 18 backends against 16 alone moved tps by
 * several percent).
 */
const shardedTotal = (env: BenchEnv, shards: number) => perShard(env, shards) * shards;

/** The unsharded database with a pool of `size` server connections (the plain one when that is the default). */
const unshardedWith = (env: BenchEnv, size: number) =>
  size === env.options.poolSize ? env.direct.database : `${env.direct.database}_pool${size}`;

/** Pool sizes the paired unsharded runs need besides the default. */
function pairedPoolSizes(env: BenchEnv): number[] {
  const counts = [env.shards.length, env.shardDatabases.length].filter((n) => n > 0);
  const sizes = new Set(counts.map((n) => shardedTotal(env, n)));
  sizes.delete(env.options.poolSize);
  return [...sizes];
}

const pgbenchSharding = {
  tables: { pgbench_accounts: 'aid', pgbench_tellers: 'tid', pgbench_branches: 'bid' },
};

function config(
  env: BenchEnv,
  port: number,
  adminPort: number,
  /** null leaves the key out: a baseline build may predate it. */
  workers: number | null,
  plugins?: ConfigInput['plugins'],
): ConfigInput {
  const { primary, direct } = env;
  const backend = { user: direct.user, password: direct.password, database: direct.database };
  const pool = { mode: 'transaction' as const, size: env.options.poolSize };
  return {
    listen: `127.0.0.1:${port}`,
    admin: `127.0.0.1:${adminPort}`,
    log: { level: 'warn' },
    shutdown_timeout: '2s',
    ...(workers !== null && { workers }),
    users: [{ name: poolerUser.name, password: poolerUser.password }],
    databases: {
      [direct.database]: { backend, pool, shards: [{ primary: `${primary.host}:${primary.port}` }] },
      ...Object.fromEntries(
        pairedPoolSizes(env).map((size) => [
          unshardedWith(env, size),
          { backend, pool: { ...pool, size }, shards: [{ primary: `${primary.host}:${primary.port}` }] },
        ]),
      ),
      ...(env.replicas.length > 0 && {
        [routed(env)]: {
          backend,
          pool,
          shards: [
            {
              primary: `${primary.host}:${primary.port}`,
              replicas: env.replicas.map((r) => `${r.host}:${r.port}`),
            },
          ],
        },
      }),
      ...(env.shards.length > 0 && {
        [sharded(env)]: {
          backend,
          pool: { ...pool, size: perShard(env, env.shards.length) },
          shards: env.shards.map((s) => ({ primary: `${s.host}:${s.port}` })),
          sharding: pgbenchSharding,
        },
      }),
      ...(env.shardDatabases.length > 0 && {
        [shardedHere(env)]: {
          backend,
          pool: { ...pool, size: perShard(env, env.shardDatabases.length) },
          shards: env.shardDatabases.map((database) => ({
            primary: `${primary.host}:${primary.port}`,
            database,
          })),
          sharding: pgbenchSharding,
        },
      }),
    },
    ...(plugins && { plugins }),
  };
}

/** Starts one proxy process on `runtime` with the given config in dir. */
async function spawnProxy(
  cli: string,
  runtime: Runtime,
  dir: string,
  port: number,
  text: string,
): Promise<Managed> {
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, 'polyproxy.yaml');
  await writeFile(configPath, text, { mode: 0o600 });
  const { cmd, args } = runtimeCommand(runtime);
  const child = spawnManaged(cmd, [...args, cli, '--config', configPath], { cwd: dir });
  await waitUntilListening(child, 'polyproxy', port);
  return child;
}

/** The proxy with the Redis cache on, and its Redis, when a selected workload wants them. */
async function startCachedProxy(
  cli: string,
  runtime: Runtime,
  name: string,
  env: BenchEnv,
  workers: number | null,
): Promise<{ port: number; child: Managed } | null> {
  if (!env.options.workloads.some((name) => workloadByName(name).usesCache)) return null;
  const redis = await startRedis();
  const [port, adminPort] = [await freePort(), await freePort()];
  const cache = { redis: redis.url, tables: ['pgbench_accounts'], default_ttl: '10m' };
  const child = await spawnProxy(
    cli,
    runtime,
    join(env.baseDir, `${name}-cache`),
    port,
    stringify(config(env, port, adminPort, workers, { cache })),
  );
  return { port, child };
}

/**
 * A target that runs the proxy built at cli (dist/cli.js of some checkout) with this many worker processes, on
 * Node or on Bun.
 */
const proxyTarget = (
  name: string,
  cli: () => string,
  workersFor: number | null | ((cli: string) => number | null) = 1,
  runtime: Runtime = 'node',
): Target => ({
  name,
  async start(env) {
    const workers = typeof workersFor === 'function' ? workersFor(cli()) : workersFor;
    const [port, adminPort] = [await freePort(), await freePort()];
    const child = await spawnProxy(
      cli(),
      runtime,
      join(env.baseDir, name),
      port,
      stringify(config(env, port, adminPort, workers)),
    );
    const cached = await startCachedProxy(cli(), runtime, name, env, workers);
    const endpoint = poolerEndpoint(env, port);
    // The sharded tables are filled through the proxy: pgbench -i's COPY is split by key on the way.
    if (env.shards.length > 0) await initPgbench({ ...endpoint, database: sharded(env) }, env.options.scale);
    if (env.shardDatabases.length > 0)
      await initPgbench({ ...endpoint, database: shardedHere(env) }, env.options.scale);
    let stopped = false;
    const connectionFor: RunningTarget['connectionFor'] = async (cell) => {
      const { shards, usesCache, usesReplicas } = cell.workload;
      const pairedShards = cell.pairedWith?.shards;
      if (pairedShards) {
        const size = shardedTotal(
          env,
          pairedShards === 'servers' ? env.shards.length : env.shardDatabases.length,
        );
        const variant = `unsharded, ${size} server connections as the sharded run has in all`;
        return { endpoint: { ...endpoint, database: unshardedWith(env, size) }, variant };
      }
      if (shards === 'servers') {
        const variant = `over ${env.shards.length} shard servers, ${perShard(env, env.shards.length)} connections each`;
        return { endpoint: { ...endpoint, database: sharded(env) }, variant };
      }
      if (shards === 'databases') {
        const count = env.shardDatabases.length;
        const variant = `over ${count} shard databases of the baseline server, ${perShard(env, count)} connections each`;
        return { endpoint: { ...endpoint, database: shardedHere(env) }, variant };
      }
      if (usesCache && cached)
        return { endpoint: poolerEndpoint(env, cached.port), variant: 'Redis result cache on' };
      if (usesReplicas) {
        const variant = `reads routed to ${env.replicas.length} replicas`;
        return { endpoint: { ...endpoint, database: routed(env) }, variant };
      }
      return { endpoint };
    };
    return {
      connectionFor,
      pids: (cell) => [cell.workload.usesCache && cached ? cached.child.pid : child.pid],
      notes: () => {
        if (stopped) return [];
        return [child, cached?.child].flatMap((c) => {
          const exit = c?.exited();
          return exit ? [`polyproxy exited (${exit}): ${c!.output().trim().slice(-2000)}`] : [];
        });
      },
      stop: async () => {
        stopped = true;
        await Promise.all([child.stop(), cached?.child.stop()]);
      },
    };
  },
});

export const polyproxyTarget = proxyTarget('polyproxy', () => cliPath);

/**
 * The same proxy with two worker processes (pool sizes stay totals), so the table shows what workers give on
 * this machine: its CPU per transaction counts the primary and both workers.
 */
export const polyproxyTwoWorkersTarget = proxyTarget('polyproxy-2w', () => cliPath, 2);

/** The same proxy on Bun (its own sockets, see src/net/bun-transport.ts), with one and with two workers. */
export const polyproxyBunTarget = proxyTarget('polyproxy-bun', () => cliPath, 1, 'bun');
export const polyproxyBunTwoWorkersTarget = proxyTarget('polyproxy-bun-2w', () => cliPath, 2, 'bun');

/**
 * Opt-in reference "baseline": another build of the proxy (BENCH_BASELINE = a checkout whose `npm run build`
 * ran), in the same interleaved run, so a change's cost per transaction is measured against the code before it.
 */
export const baselineTarget = proxyTarget(
  'baseline',
  () => {
    const root = process.env.BENCH_BASELINE;
    if (!root) throw new Error('target "baseline" needs BENCH_BASELINE=<a built checkout of polyproxy>');
    return join(root, 'dist', 'cli.js');
  },
  // One worker, as polyproxy has, when the build knows the key (left out, it would run one per core).
  (cli) => (readFileSync(join(dirname(cli), 'config', 'schema.js'), 'utf8').includes('workers') ? 1 : null),
);
