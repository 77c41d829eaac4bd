// The PostgreSQL server every target ends at, with the pgbench tables initialised once.
import type { BenchEnv } from './bench-env.js';
import type { Cluster, PgServer } from '../sandbox/postgres.js';
import { startCluster } from '../sandbox/postgres.js';
import type { BenchOptions } from './options.js';
import { initPgbench, type Endpoint } from './pgbench.js';
import { waitFor } from '../sandbox/wait.js';
import { workloadByName } from './workloads.js';

export const benchDatabase = 'bench';

export async function startEnvironment(options: BenchOptions): Promise<BenchEnv> {
  const wantReplicas = options.workloads.some((name) => workloadByName(name).usesReplicas);
  const cluster = await startCluster({ shards: 1, replicasPerShard: wantReplicas ? 2 : 0 });
  try {
    const { primary, replicas } = cluster.shards[0];
    await primary.psql(`CREATE DATABASE ${benchDatabase}`);
    const direct: Endpoint = {
      host: primary.host,
      port: primary.port,
      user: primary.user,
      password: cluster.password,
      database: benchDatabase,
    };
    await initPgbench(direct, options.scale);
    for (const replica of replicas) {
      await waitFor(
        async () =>
          (await replica.psql('SELECT count(*) FROM pgbench_branches', benchDatabase).catch(() => '')) !== '',
        {
          what: `replica ${replica.port} to replay the pgbench tables`,
          timeoutMs: 120_000,
        },
      );
    }
    const shards = await startShards(options, cluster);
    const shardDatabases = await createShardDatabases(options, primary);
    return { options, cluster, primary, replicas, direct, baseDir: cluster.baseDir, shards, shardDatabases };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/** Shards for the sharded workloads; polyproxy fills them (pgbench -i through the proxy splits the rows). */
async function startShards(options: BenchOptions, cluster: Cluster): Promise<PgServer[]> {
  if (!options.workloads.some((name) => workloadByName(name).shards === 'servers')) return [];
  // Same directory and password as the main server: stopped with everything else at the end of the bench.
  const shards = await startCluster({
    shards: 3,
    replicasPerShard: 0,
    baseDir: cluster.baseDir,
    password: cluster.password,
  });
  const primaries = shards.shards.map((s) => s.primary);
  await Promise.all(primaries.map((p) => p.psql(`CREATE DATABASE ${benchDatabase}`)));
  return primaries;
}

/** Shards as databases of the baseline server; polyproxy fills them as it fills the shard servers. */
async function createShardDatabases(options: BenchOptions, primary: PgServer): Promise<string[]> {
  if (!options.workloads.some((name) => workloadByName(name).shards === 'databases')) return [];
  const names = [0, 1, 2].map((i) => `${benchDatabase}_s${i}`);
  for (const name of names) await primary.psql(`CREATE DATABASE ${name}`);
  return names;
}
