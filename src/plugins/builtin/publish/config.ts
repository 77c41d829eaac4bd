// The `plugins.publish` config slice: the brokers, and for each published table where its changes go.
import { z } from 'zod';
import { duration } from '../../../config/fields.js';

const name63 = z
  .string()
  .regex(/^[a-z0-9_]{1,63}$/, { error: 'expected lower-case letters, digits and underscores (at most 63)' });

const url = (protocols: readonly string[], example: string) =>
  z.string().superRefine((value, ctx) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected a URL such as ${example}` });
      return;
    }
    if (!protocols.includes(parsed.protocol))
      ctx.addIssue({
        code: 'custom',
        message: `expected ${protocols.join(' or ')}//, got ${parsed.protocol}//`,
      });
  });

const operation = z.enum(['insert', 'update', 'delete', 'truncate']);

const rabbitmqSchema = z.strictObject({
  url: url(['amqp:', 'amqps:'], 'amqp://user:password@host:5672/vhost').meta({
    description: 'amqp://user:password@host:port/vhost or amqps://...',
  }),
});

const sqsSchema = z.strictObject({
  region: z.string().min(1).prefault('us-east-1'),
  endpoint: url(['http:', 'https:'], 'http://127.0.0.1:9324')
    .optional()
    .meta({ description: 'an SQS-compatible endpoint; AWS by region when missing' }),
  access_key_id: z.string().optional().meta({ description: "else the AWS SDK's default credential chain" }),
  secret_access_key: z.string().optional(),
});

const tableSchema = z
  .strictObject({
    rabbitmq: z
      .strictObject({
        exchange: z.string().meta({ description: 'exchange to publish to ("" is the default exchange)' }),
        routing_key: z
          .string()
          .prefault('{schema}.{table}.{op}')
          .meta({ description: 'routing key; {schema}, {table} and {op} are replaced' }),
        mandatory: z.boolean().prefault(true).meta({
          description: 'a message no queue takes fails and is tried again, rather than being dropped',
        }),
        batch: z.number().int().min(1).max(1000).prefault(1).meta({
          description:
            'changes per message: above 1, consecutive changes with the same routing key go as one message whose body is a JSON array of them, in commit order (far less broker work per change)',
        }),
      })
      .optional(),
    sqs: z
      .strictObject({
        queue_url: url(['http:', 'https:'], 'https://sqs.us-east-1.amazonaws.com/123456789012/events').meta({
          description: 'queue URL; a FIFO queue (.fifo) gets the row key as message group',
        }),
      })
      .optional(),
    operations: z
      .array(operation)
      .min(1)
      .optional()
      .meta({ description: 'operations published (default all, or insert alone with delete_after_publish)' }),
    delete_after_publish: z
      .boolean()
      .prefault(false)
      .meta({ description: 'outbox: delete each published row by its key once the brokers confirmed it' }),
  })
  .superRefine((table, ctx) => {
    if (!table.rabbitmq && !table.sqs)
      ctx.addIssue({ code: 'custom', message: 'give rabbitmq, sqs or both: where its changes go' });
  });

export const publishConfigSchema = z
  .strictObject({
    rabbitmq: rabbitmqSchema.optional(),
    sqs: sqsSchema.optional(),
    /** `t` matches the table in any schema, `s.t` only in schema s. */
    tables: z.record(z.string().min(1), tableSchema),
    slot: name63.prefault('polyproxy_publish').meta({ description: 'replication slot on each primary' }),
    publication: name63
      .prefault('polyproxy_publish')
      .meta({ description: 'publication the slot reads (created FOR ALL TABLES when missing)' }),
    max_in_flight: z.number().int().min(1).max(1_000_000).prefault(10_000).meta({
      description:
        'changes read from a stream and not yet confirmed by the brokers, at most: reading stops at this many while a broker is slow or down (the slot keeps the WAL)',
    }),
    /** How long one publish (a batch of messages and its confirms) may take before it is tried again. */
    timeout: duration('10s'),
    connect_timeout: duration('5s'),
  })
  .superRefine((config, ctx) => {
    for (const [table, target] of Object.entries(config.tables)) {
      if (target.rabbitmq && !config.rabbitmq)
        ctx.addIssue({
          code: 'custom',
          path: ['rabbitmq'],
          message: `required: table ${table} publishes to RabbitMQ`,
        });
      if (target.sqs && !config.sqs)
        ctx.addIssue({ code: 'custom', path: ['sqs'], message: `required: table ${table} publishes to SQS` });
    }
  });

export type PublishConfig = z.output<typeof publishConfigSchema>;
export type TableTarget = PublishConfig['tables'][string];
export type Operation = z.output<typeof operation>;
