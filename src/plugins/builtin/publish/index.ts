// The built-in `publish` plugin: committed changes of configured tables (an outbox, or any table) published as JSON
// messages to RabbitMQ and SQS from each primary's change stream, at least once, in commit order per row.
import { ChangeStream } from '../../../streams/change-stream.js';
import { streamSources } from '../../../streams/stream-sources.js';
import type { PolyproxyPlugin } from '../../api.js';
import { publishConfigSchema, type PublishConfig } from './config.js';
import { OutboxCleaner } from './outbox.js';
import { publishCounters, publishSink } from './publisher.js';
import { RabbitPublisher } from './rabbitmq.js';
import { SqsPublisher } from './sqs.js';

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
    const cleaners: OutboxCleaner[] = [];
    const streams = streamSources(ctx.databases, config.slot).map(({ server, slot }) => {
      const outbox = new OutboxCleaner(server);
      cleaners.push(outbox);
      return new ChangeStream({
        server,
        slot,
        publication: config.publication,
        consumer: 'publish',
        log: ctx.log,
        window: config.max_in_flight,
        sink: publishSink(config, { rabbitmq, sqs }, outbox, counters),
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
