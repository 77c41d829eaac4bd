// What a cluster and its helpers need of the database they serve (the database owns the cluster).
import type { DatabaseConfig } from '../config/schema.js';
import type { StatementMetrics } from '../metrics/statement-metrics.js';
import type { Shard } from './shard.js';

export interface ClusterDatabase {
  readonly name: string;
  readonly config: DatabaseConfig;
  readonly shards: Shard[];
  readonly statementMetrics: StatementMetrics | null;
}
