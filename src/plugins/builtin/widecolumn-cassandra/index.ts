// Built-in plugin `widecolumn`: SQL over Apache Cassandra tables, one SQL schema (e.g. `wide`) whose tables are a keyspace's.
import type { PolyproxyPlugin } from '../../api.js';
import { Catalog } from './catalog.js';
import { widecolumnConfigSchema, type WidecolumnConfig } from './config.js';
import { DriverRunner } from './driver.js';
import { WidecolumnHandler } from './handler.js';

const widecolumnPlugin: PolyproxyPlugin<WidecolumnConfig> = {
  name: 'widecolumn',
  polyproxy: '^0.1',
  configSchema: widecolumnConfigSchema,
  register(ctx) {
    const { config } = ctx;
    const runner = new DriverRunner(config);
    const catalog = new Catalog(
      (cql, params) => runner.rows({ cql, params }, config.read_consistency),
      config.keyspace,
      config.schema,
      config.schema_ttl,
      new Set(config.allow_filtering),
    );
    const handler = new WidecolumnHandler(
      runner,
      catalog,
      config.schema,
      {
        read: config.read_consistency,
        write: config.write_consistency,
      },
      ctx.metrics,
    );
    ctx.claim({ schemas: [config.schema] }, handler);
    ctx.onStop(() => runner.close());
    ctx.log.info('widecolumn: schema claimed', { schema: config.schema, keyspace: config.keyspace });
  },
};

export default widecolumnPlugin;
