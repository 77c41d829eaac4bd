// The built-in `graph` plugin: Cypher on Neo4j through Apache AGE's `SELECT * FROM cypher('graph', $$ ... $$) AS (...)`.
import neo4j from 'neo4j-driver';
import type { PolyproxyPlugin } from '../../api.js';
import { graphConfigSchema, type GraphConfig } from './config.js';
import { GraphHandler } from './handler.js';

const graph: PolyproxyPlugin<GraphConfig> = {
  name: 'graph',
  polyproxy: '^0.1',
  configSchema: graphConfigSchema,
  register(ctx) {
    const { config } = ctx;
    const auth = config.user === undefined ? undefined : neo4j.auth.basic(config.user, config.password ?? '');
    // The driver connects lazily: a Neo4j that is down fails graph statements only, and quickly.
    const driver = neo4j.driver(config.url, auth, {
      connectionTimeout: config.connect_timeout,
      connectionAcquisitionTimeout: config.connect_timeout * 2,
      maxTransactionRetryTime: config.max_retry_time,
      maxConnectionPoolSize: config.pool_size,
      logging: {
        level: 'warn',
        logger: (level, message) => ctx.log[level === 'error' ? 'error' : 'warn'](message),
      },
    });
    ctx.claim({ functions: ['cypher', 'ag_catalog.cypher'] }, new GraphHandler(driver, config, ctx.metrics));
    ctx.onStop(() => driver.close());
  },
};

export default graph;
