// What the bench's targets and workloads share: the servers every target ends at.
import type { Cluster, PgServer } from '../sandbox/postgres.js';
import type { BenchOptions } from './options.js';
import type { Endpoint } from './pgbench.js';

/** What targets and workloads share; workloads that need replicas or shards extend the cluster here. */
export interface BenchEnv {
  options: BenchOptions;
  cluster: Cluster;
  primary: PgServer;
  /** Streaming replicas of the primary, started when a selected workload routes reads to them. */
  replicas: PgServer[];
  /** PostgreSQL itself, as the superuser. */
  direct: Endpoint;
  /** Where servers write their files; removed with the cluster. */
  baseDir: string;
  /** Three shard primaries (empty `bench` databases), started when a selected workload runs sharded. */
  shards: PgServer[];
  /** Three empty databases on the primary, for workloads whose shards are databases of the baseline server. */
  shardDatabases: string[];
}
