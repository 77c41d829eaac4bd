// The workloads the bench can run; add one here (e.g. replica reads, sharded point reads) to extend it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchEnv } from './bench-env.js';
import type { QueryMode } from './options.js';

export interface Workload {
  name: string;
  /** Shown in the table. */
  label: string;
  /** pgbench flags selecting the transaction script. */
  pgbenchArgs(env: BenchEnv): string[];
  /** Runs directly on PostgreSQL before each measured run, so every target starts from the same state. */
  beforeRun?(env: BenchEnv): Promise<void>;
  /** Through polyproxy, runs against the primary with its streaming replicas (read/write routing). */
  usesReplicas?: boolean;
  /** Through polyproxy, runs with the Redis result cache on (a proxy of its own, with Redis beside it). */
  usesCache?: boolean;
  /**
   * Through polyproxy, runs on the same pgbench tables spread over three shards (hash on aid, tid, bid):
   * three servers of their own, or three databases of the baseline server (the proxy's routing cost alone,
   * with PostgreSQL's work on the same server as the unsharded path). Other targets run unsharded.
   */
  shards?: 'servers' | 'databases';
  /** The unsharded workload whose polyproxy throughput this one is compared with (same mode and clients). */
  baseline?: string;
  /** Query modes and client counts for this workload, instead of the bench-wide lists. */
  modes?: readonly QueryMode[];
  clients?: readonly number[];
}

/** A pgbench script file in the bench's folder; its path for `-f`. */
function script(env: BenchEnv, name: string, text: string): string {
  const path = join(env.baseDir, `${name}.sql`);
  writeFileSync(path, text);
  return path;
}

/** pgbench_accounts holds 100,000 rows per scale unit: 1M at the default scale 10. */
const aggregateSql = 'SELECT count(*), sum(abalance), avg(abalance), max(bid) FROM pgbench_accounts;\n';
/** A hot set of 1,000 rows, so a cache warms up within a run; the uncached twin reads the same rows. */
const pointReadSql =
  '\\set aid random(1, 1000)\nSELECT abalance, filler FROM pgbench_accounts WHERE aid = :aid;\n';

/** Latency of one client, in the protocol most drivers use: what a cache changes. */
const cacheCells = { modes: ['extended'] as const, clients: [1] };

export const workloads: readonly Workload[] = [
  {
    name: 'select-only',
    label: 'select-only (-S)',
    pgbenchArgs: () => ['-S'],
  },
  {
    name: 'tpcb',
    label: 'tpcb (default)',
    pgbenchArgs: () => [],
    // What pgbench does itself without -n, but here and not through the target being measured.
    beforeRun: async (env) => {
      await env.primary.psql('VACUUM pgbench_branches', env.direct.database);
      await env.primary.psql('VACUUM pgbench_tellers', env.direct.database);
      await env.primary.psql('TRUNCATE pgbench_history', env.direct.database);
    },
  },
  {
    name: 'connect-per-tx',
    label: 'select-only, a new connection per transaction (-C -S)',
    // Logins under load: SCRAM, startup and session set-up for every transaction, as short-lived clients
    // (serverless functions, scripts, PHP) do. Every target authenticates with SCRAM-SHA-256.
    pgbenchArgs: () => ['-C', '-S'],
    modes: ['simple'],
    clients: [16],
  },
  {
    name: 'read-mostly',
    label: 'read-mostly (9 reads : 1 update)',
    // direct and PgBouncer send everything to the primary; polyproxy routes the reads to two replicas.
    pgbenchArgs: () => ['-b', 'select-only@9', '-b', 'simple-update@1'],
    usesReplicas: true,
  },
  {
    name: 'aggregate',
    label: 'aggregate over pgbench_accounts',
    pgbenchArgs: (env) => ['-f', script(env, 'aggregate', aggregateSql)],
    ...cacheCells,
  },
  {
    name: 'aggregate-cached',
    label: 'aggregate over pgbench_accounts, polyproxy cache on',
    pgbenchArgs: (env) => ['-f', script(env, 'aggregate', aggregateSql)],
    usesCache: true,
    ...cacheCells,
  },
  {
    name: 'point-read',
    label: 'point read (1,000 hot rows)',
    pgbenchArgs: (env) => ['-f', script(env, 'point-read', pointReadSql)],
    ...cacheCells,
  },
  {
    name: 'point-read-cached',
    label: 'point read (1,000 hot rows), polyproxy cache on',
    pgbenchArgs: (env) => ['-f', script(env, 'point-read', pointReadSql)],
    usesCache: true,
    ...cacheCells,
  },
  {
    name: 'sharded-point-read',
    label: 'point read (-S), polyproxy over 3 shards',
    pgbenchArgs: () => ['-S'],
    shards: 'servers',
    baseline: 'select-only',
    modes: ['simple', 'extended', 'prepared'],
    clients: [16],
  },
  {
    name: 'sharded-point-read-one-server',
    label: 'point read (-S), polyproxy over 3 shards as databases of the baseline server',
    pgbenchArgs: () => ['-S'],
    shards: 'databases',
    baseline: 'select-only',
    modes: ['simple', 'extended', 'prepared'],
    clients: [16],
  },
  {
    name: 'sharded-aggregate',
    label: 'aggregate over pgbench_accounts, polyproxy over 3 shards',
    pgbenchArgs: (env) => ['-f', script(env, 'aggregate', aggregateSql)],
    shards: 'servers',
    ...cacheCells,
  },
];

export function workloadByName(name: string): Workload {
  const found = workloads.find((w) => w.name === name);
  if (!found) throw new Error(`unknown workload ${name}`);
  return found;
}
