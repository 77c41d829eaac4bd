// Publishes change messages to RabbitMQ on a confirm channel: done only once the broker confirmed every one.
import amqp from 'amqplib';
import type { Logger } from '../../../logger.js';
import type { PublishConfig } from './config.js';
import type { Outgoing } from './message.js';
import { withTimeout } from './timeout.js';

type Connection = Awaited<ReturnType<typeof amqp.connect>>;
type ConfirmChannel = Awaited<ReturnType<Connection['createConfirmChannel']>>;

const routingKey = (pattern: string, message: Outgoing['message']) => {
  const dot = message.table.indexOf('.');
  return pattern
    .replaceAll('{schema}', message.table.slice(0, dot))
    .replaceAll('{table}', message.table.slice(dot + 1))
    .replaceAll('{op}', message.op);
};

/**
 * One connection and confirm channel, made on first use and again after either broke. A message no queue took
 * (returned as unroutable, with `mandatory`) fails the batch like a refused one: it would otherwise be lost.
 */
export class RabbitPublisher {
  private connection: Connection | null = null;
  private channel: ConfirmChannel | null = null;
  private returned = 0;

  constructor(
    private readonly config: NonNullable<PublishConfig['rabbitmq']>,
    private readonly timeoutMs: number,
    private readonly connectTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** Publishes in the given order (one channel keeps it) and resolves once all are confirmed. */
  async publish(items: readonly Outgoing[]): Promise<void> {
    if (items.length === 0) return;
    const channel = await this.open();
    this.returned = 0;
    try {
      await withTimeout(this.send(channel, items), this.timeoutMs, 'RabbitMQ publisher confirms');
    } catch (error) {
      await this.drop();
      throw error;
    }
    if (this.returned > 0) throw new Error(`RabbitMQ returned ${this.returned} unroutable message(s)`);
  }

  private async send(channel: ConfirmChannel, items: readonly Outgoing[]): Promise<void> {
    for (const item of items) {
      const target = item.target.rabbitmq!;
      const accepted = channel.publish(
        target.exchange,
        routingKey(target.routing_key, item.message),
        Buffer.from(item.body),
        {
          persistent: true,
          mandatory: target.mandatory,
          contentType: 'application/json',
          messageId: item.message.id,
          type: item.message.op,
        },
      );
      // The channel's buffer is full: wait until the socket took it rather than grow it without bound.
      if (!accepted) await new Promise((resolve) => channel.once('drain', resolve));
    }
    await channel.waitForConfirms();
  }

  private async open(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    const connection = await withTimeout(
      amqp.connect(this.config.url, { timeout: this.connectTimeoutMs }),
      this.connectTimeoutMs,
      'RabbitMQ connection',
    );
    const forget = (error?: unknown) => {
      if (error) this.log.warn('RabbitMQ connection lost', { error: String(error) });
      if (this.connection === connection) {
        this.connection = null;
        this.channel = null;
      }
    };
    connection.on('error', forget);
    connection.on('close', () => forget());
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => (this.channel = this.channel === channel ? null : this.channel));
    channel.on('close', () => (this.channel = this.channel === channel ? null : this.channel));
    channel.on('return', () => this.returned++);
    this.connection = connection;
    this.channel = channel;
    return channel;
  }

  private async drop(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    this.channel = null;
    await connection?.close().catch(() => {});
  }

  async close(): Promise<void> {
    await this.drop();
  }
}
