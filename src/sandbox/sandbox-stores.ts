// The other stores `npm start` runs beside PostgreSQL when this machine has them: Redis, FerretDB, Neo4j and Cassandra, each with its plugin on.
import type { Logger } from '../logger.js';
import { startCassandra, createKeyspace } from './cassandra.js';
import { startFerretDb } from './ferretdb.js';
import { startNeo4j } from './neo4j.js';
import { startRedis } from './redis.js';

export interface SandboxStores {
  /** The `plugins:` section for the stores that started. */
  plugins: Record<string, unknown>;
  /** One line per store for the sandbox's banner. */
  lines: string[];
  /** Stops every store that started (they also stop with the process). */
  stop(): Promise<void>;
}

/** Which stores to try: POLYPROXY_SANDBOX_STORES=redis,mongodb,neo4j,cassandra (the default) or a subset, or `none`. */
export function wantedStores(
  value = process.env.POLYPROXY_SANDBOX_STORES ?? 'redis,mongodb,neo4j,cassandra',
): Set<string> {
  return new Set(value.split(',').map((s) => s.trim().toLowerCase()));
}

/** Starts what it can; a store that cannot start is left out with a log line saying how to get it. */
export async function startSandboxStores(logger: Logger, want = wantedStores()): Promise<SandboxStores> {
  const stoppers: (() => Promise<void>)[] = [];
  const stores: SandboxStores = {
    plugins: {},
    lines: [],
    stop: async () => {
      await Promise.all(stoppers.splice(0).map((stop) => stop()));
    },
  };
  const attempt = async (name: string, start: () => Promise<void>) => {
    if (!want.has(name)) return;
    try {
      await start();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      logger.warn(`${name} not started: ${why} (scripts/install-test-servers.sh installs it)`);
    }
  };
  await attempt('redis', async () => {
    const redis = await startRedis();
    stoppers.push(() => redis.stop());
    // Nothing is cached unless a statement asks: /* polyproxy: cache ttl=60 */ SELECT ...
    stores.plugins.cache = { redis: redis.url, default_ttl: '60s' };
    stores.lines.push(`  redis     ${redis.url}  (cache: /* polyproxy: cache ttl=60 */ SELECT …)`);
  });
  await attempt('mongodb', async () => {
    const ferret = await startFerretDb();
    stoppers.push(() => ferret.stop());
    stores.plugins.documents = { url: ferret.url, database: 'sandbox', schema: 'docs' };
    stores.lines.push(`  mongodb   ${ferret.url}  (FerretDB; SQL on docs.<collection>)`);
  });
  await attempt('neo4j', async () => {
    const neo4j = await startNeo4j({ onLaunch: () => logger.info('starting Neo4j (about 15 s)') });
    stoppers.push(() => neo4j.stop());
    stores.plugins.graph = { url: neo4j.url, graphs: { sandbox: 'neo4j' } };
    stores.lines.push(`  neo4j     ${neo4j.url}  (SELECT * FROM cypher('sandbox', $$ … $$) AS (v agtype))`);
  });
  await attempt('cassandra', async () => {
    const cassandra = await startCassandra({
      onLaunch: () => logger.info('starting Cassandra (about 40 s)'),
    });
    stoppers.push(() => cassandra.stop());
    await createKeyspace(cassandra, 'sandbox');
    stores.plugins.widecolumn = {
      contact_points: [cassandra.contactPoint],
      local_datacenter: cassandra.dataCenter,
      keyspace: 'sandbox',
      schema: 'wide',
    };
    stores.lines.push(
      `  cassandra ${cassandra.contactPoint}  (keyspace sandbox; SQL on wide.<table> by partition key)`,
    );
  });
  return stores;
}
