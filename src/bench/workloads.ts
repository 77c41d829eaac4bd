// The workloads the bench can run; add one here (e.g. replica reads, sharded point reads) to extend it.
import type { BenchEnv } from './environment.js';

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
}

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
    name: 'read-mostly',
    label: 'read-mostly (9 reads : 1 update)',
    // direct and PgBouncer send everything to the primary; polyproxy routes the reads to two replicas.
    pgbenchArgs: () => ['-b', 'select-only@9', '-b', 'simple-update@1'],
    usesReplicas: true,
  },
];

export function workloadByName(name: string): Workload {
  const found = workloads.find((w) => w.name === name);
  if (!found) throw new Error(`unknown workload ${name}`);
  return found;
}
