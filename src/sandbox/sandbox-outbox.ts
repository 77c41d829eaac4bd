// `npm start` with RabbitMQ installed: a broker, an example outbox table and the publish plugin reading it, so a
// row inserted through the proxy becomes a message (watched with `npm run watch-outbox -- <url>`).
import amqp from 'amqplib';
import pg from 'pg';
import type { Logger } from '../logger.js';
import { startRabbitMq } from './rabbitmq.js';
import { wantedStores } from './sandbox-stores.js';

export interface SandboxOutbox {
  /** The `publish` plugin's settings, or nothing when RabbitMQ did not start. */
  plugins: Record<string, unknown>;
  lines: string[];
  /** Stops RabbitMQ (it also stops with the process). */
  stop(): Promise<void>;
}

export interface OutboxDatabase {
  /** `host:port` of the primary. */
  primary: string;
  backend: { user: string; password: string; database: string };
}

const outboxDdl = `CREATE TABLE IF NOT EXISTS outbox (
  id bigserial PRIMARY KEY,
  aggregate text NOT NULL,
  type text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now())`;

/** Exchange and queue the example publishes to; the queue is durable, so messages wait for a watcher. */
export const outboxExchange = 'outbox';
export const outboxQueue = 'outbox';

/** Starts RabbitMQ when installed and wanted (POLYPROXY_SANDBOX_STORES unset, or naming rabbitmq). */
export async function startSandboxOutbox(logger: Logger, db: OutboxDatabase): Promise<SandboxOutbox> {
  const none = { plugins: {}, lines: [], stop: async () => {} };
  if (process.env.POLYPROXY_SANDBOX_STORES !== undefined && !wantedStores().has('rabbitmq')) return none;
  let started: { stop(): Promise<void> } | null = null;
  try {
    const rabbit = await startRabbitMq();
    started = rabbit;
    const connection = await amqp.connect(rabbit.url);
    try {
      const channel = await connection.createChannel();
      await channel.assertExchange(outboxExchange, 'topic', { durable: true });
      await channel.assertQueue(outboxQueue, { durable: true });
      await channel.bindQueue(outboxQueue, outboxExchange, '#');
    } finally {
      await connection.close();
    }
    const [host, port] = db.primary.split(':');
    const client = new pg.Client({ ...db.backend, host, port: Number(port) });
    await client.connect();
    try {
      await client.query(outboxDdl);
    } finally {
      await client.end();
    }
    const publish = {
      rabbitmq: { url: rabbit.url },
      tables: {
        'public.outbox': {
          rabbitmq: { exchange: outboxExchange, routing_key: '{table}.{op}' },
          delete_after_publish: true,
        },
      },
    };
    return {
      plugins: { publish },
      stop: () => rabbit.stop(),
      lines: [
        `  rabbitmq  ${rabbit.url}  (outbox: INSERT INTO outbox (aggregate, type, payload) VALUES ('order', 'created', '{"n": 1}');`,
        `            watch its messages: npm run watch-outbox -- ${rabbit.url})`,
      ],
    };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    logger.warn(`rabbitmq not started: ${why} (scripts/install-rabbitmq.sh installs it)`);
    await started?.stop();
    return none;
  }
}
