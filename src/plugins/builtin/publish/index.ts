// The built-in `publish` plugin: committed changes of configured tables (an outbox, or any table) published as JSON
// messages to RabbitMQ and SQS from each primary's change stream, at least once, in commit order per row.
import { ChangeStream } from '../../../streams/change-stream.js';
import type { PluginDatabase, PolyproxyPlugin } from '../../api.js';
import { publishConfigSchema, type PublishConfig } from './config.js';
import { OutboxCleaner } from './outbox.js';
import { batchPublisher, publishCounters } from './publisher.js';
import { RabbitPublisher } from './rabbitmq.js';
import { SqsPublisher } from './sqs.js';

interface Source {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly login: PluginDatabase;
}

/** One stream per server database, whichever proxy databases (or shards) name it. */
function sources(databases: readonly PluginDatabase[]): Source[] {
  const byKey = new Map<string, Source>();
  for (const db of databases)
    for (const primary of db.primaries) {
      const key = `${primary.host}:${primary.port}/${primary.database}`;
      if (!byKey.has(key)) byKey.set(key, { ...primary, login: db });
    }
  return [...byKey.values()];
}

const slotSafe = (name: string) => name.toLowerCase().replace(/[^a-z0-9_]/g, '_');

const publishPlugin: PolyproxyPlugin<PublishConfig> = {
  name: 'publish',
  polyproxy: '^0.1',
  configSchema: publishConfigSchema,
  register(ctx) {
    const { config } = ctx;
    const rabbitmq = config.rabbitmq
      ? new RabbitPublisher(config.rabbitmq, config.timeout, config.connect_timeout, ctx.log)
      : null;
    const sqs = config.sqs ? new SqsPublisher(config.sqs, config.timeout) : null;
    const counters = publishCounters(ctx.metrics);
    const all = sources(ctx.databases);
    const cleaners: OutboxCleaner[] = [];
    const streams = all.map((source) => {
      // Slot names are per server: where one server holds several databases, each slot names its database.
      const shared = all.filter((s) => s.host === source.host && s.port === source.port).length > 1;
      const server = {
        host: source.host,
        port: source.port,
        database: source.database,
        user: source.login.user,
        password: source.login.password,
        connectTimeoutMs: source.login.connectTimeoutMs,
      };
      const outbox = new OutboxCleaner(server);
      cleaners.push(outbox);
      return new ChangeStream({
        server,
        slot: shared ? `${config.slot}_${slotSafe(source.database)}`.slice(0, 63) : config.slot,
        publication: config.publication,
        consumer: 'publish',
        log: ctx.log,
        applyTransactions: batchPublisher(config, { rabbitmq, sqs }, outbox, counters),
      });
    });
    ctx.onStart(() => {
      for (const stream of streams) stream.start();
    });
    ctx.onStop(async () => {
      await Promise.all(streams.map((stream) => stream.stop()));
      await Promise.all([rabbitmq?.close(), ...cleaners.map((cleaner) => cleaner.close())]);
      sqs?.close();
    });
  },
};

export default publishPlugin;
