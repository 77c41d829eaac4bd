// Built-in plugin `documents`: SQL over MongoDB collections, one SQL schema (e.g. `docs`) whose tables are collections.
import { MongoClient } from 'mongodb';
import type { PolyproxyPlugin } from '../../api.js';
import { Catalog } from './catalog.js';
import { documentsConfigSchema, type DocumentsConfig } from './config.js';
import { DocumentsHandler } from './handler.js';

const documentsPlugin: PolyproxyPlugin<DocumentsConfig> = {
  name: 'documents',
  polyproxy: '^0.1',
  configSchema: documentsConfigSchema,
  register(ctx) {
    const { config } = ctx;
    // The driver connects on first use and keeps reconnecting, so a MongoDB outage fails statements, not the proxy.
    const client = new MongoClient(config.url, { appName: 'polyproxy' });
    const db = client.db(config.database);
    const handler = new DocumentsHandler(db, new Catalog(db, config), config.schema);
    ctx.claim({ schemas: [config.schema] }, handler);
    ctx.onStop(() => client.close());
    ctx.log.info('documents: schema claimed', { schema: config.schema, database: config.database });
  },
};

export default documentsPlugin;
