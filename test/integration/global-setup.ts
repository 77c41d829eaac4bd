// Starts the real PostgreSQL primary and replica that integration tests share, and stops them afterwards.
import type { TestProject } from 'vitest/node';
import { startCluster } from '../../src/sandbox/postgres.js';
import type { PgContext } from './helpers/context.js';

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const cluster = await startCluster({ shards: 1, replicasPerShard: 1, authMethod: 'scram-sha-256' });
  try {
    const { primary, replicas } = cluster.shards[0];
    await primary.psql('CREATE DATABASE app');
    const pg: PgContext = {
      host: primary.host,
      port: primary.port,
      password: cluster.password,
      replicaPort: replicas[0].port,
      baseDir: cluster.baseDir,
    };
    provide('pg', pg);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return () => cluster.stop();
}
