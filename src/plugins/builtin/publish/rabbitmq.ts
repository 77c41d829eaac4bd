// Publishes change messages to RabbitMQ on a confirm channel, many batches in flight: each done once the broker
// confirmed every one of its messages.
import amqp, { type Options } from 'amqplib';
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

interface AmqpMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: Buffer;
  readonly options: Options.Publish;
}

/**
 * One AMQP message per change, or with `batch` above 1, one per run of consecutive changes of the same table
 * settings and routing key (a JSON array, in commit order; its id is the first change's, `x-changes` their count).
 */
function amqpMessages(items: readonly Outgoing[]): AmqpMessage[] {
  const out: AmqpMessage[] = [];
  for (let start = 0; start < items.length;) {
    const first = items[start]!;
    const target = first.target.rabbitmq!;
    const key = routingKey(target.routing_key, first.message);
    let end = start + 1;
    while (
      end < items.length &&
      end - start < target.batch &&
      items[end]!.target === first.target &&
      routingKey(target.routing_key, items[end]!.message) === key
    )
      end++;
    const run = items.slice(start, end);
    const batched = target.batch > 1;
    out.push({
      exchange: target.exchange,
      routingKey: key,
      body: Buffer.from(batched ? `[${run.map((item) => item.body).join(',')}]` : first.body),
      options: {
        persistent: true,
        mandatory: target.mandatory,
        contentType: 'application/json',
        messageId: first.message.id,
        type: batched ? 'batch' : first.message.op,
        ...(batched ? { headers: { 'x-changes': run.length } } : {}),
      },
    });
    start = end;
  }
  return out;
}

/** Sends batches in call order on one channel; once one failed, every later one fails too (see lane()). */
export type RabbitLane = (items: readonly Outgoing[]) => Promise<void>;

interface LaneState {
  broken: Error | null;
}

const fail = (lane: LaneState, error: unknown): Error =>
  (lane.broken ??= error instanceof Error ? error : new Error(String(error)));

/**
 * One connection and confirm channel, made on first use and again after either broke. A message no queue took
 * (returned as unroutable, with `mandatory`) breaks the channel like a refused one: it would otherwise be lost.
 */
export class RabbitPublisher {
  private connection: Connection | null = null;
  private channel: ConfirmChannel | null = null;
  private opening: Promise<ConfirmChannel> | null = null;
  /** Per channel: the unroutable message it returned, after which none of its confirms counts. */
  private readonly returned = new WeakMap<ConfirmChannel, { error: Error | null }>();

  constructor(
    private readonly config: NonNullable<PublishConfig['rabbitmq']>,
    private readonly timeoutMs: number,
    private readonly connectTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  /**
   * A lane for one replication connection: batches are written in call order without waiting for earlier
   * confirms, so one channel keeps their order. After a failure the lane refuses the rest, since sending them
   * on a new channel would put them before the failed batch's messages; the stream then replays from its
   * confirmed position on a new lane.
   */
  lane(): RabbitLane {
    const lane: LaneState = { broken: null };
    let written: Promise<unknown> = Promise.resolve();
    return (items) => {
      if (items.length === 0) return Promise.resolve();
      const sent = written.then(() => {
        if (lane.broken) throw lane.broken;
        return this.write(items, lane);
      });
      // The next batch is written once this one is (not confirmed): a window of confirms stays open.
      written = sent.catch((error: unknown) => fail(lane, error));
      return sent
        .then((batch) => withTimeout(batch.acks, this.timeoutMs, 'RabbitMQ publisher confirms'))
        .catch(async (error: unknown) => {
          fail(lane, error);
          await this.drop();
          throw error;
        });
    };
  }

  /** Writes the messages; resolves once they are written, with a promise of their confirms. */
  private async write(items: readonly Outgoing[], lane: LaneState): Promise<{ acks: Promise<void> }> {
    const channel = await this.open();
    const returned = this.returned.get(channel)!;
    const messages = amqpMessages(items);
    let left = messages.length;
    let settle!: (error: Error | null) => void;
    const acks = new Promise<void>((resolve, reject) => {
      settle = (error) => {
        // Failed synchronously, so no later batch of the lane is written on a channel opened after this one.
        if (error) reject(fail(lane, error));
        else if (--left === 0) resolve();
      };
    });
    acks.catch(() => {});
    for (const message of messages) {
      const accepted = channel.publish(
        message.exchange,
        message.routingKey,
        message.body,
        message.options,
        (error: unknown) =>
          settle(
            returned.error ??
              (error ? new Error(`RabbitMQ did not confirm a message: ${String(error)}`) : null),
          ),
      );
      // The channel's buffer is full: wait until the socket took it rather than grow it without bound.
      if (!accepted) await this.drained(channel);
    }
    return { acks };
  }

  private async drained(channel: ConfirmChannel): Promise<void> {
    await withTimeout(
      new Promise<void>((resolve) => {
        const done = () => {
          channel.off('drain', done);
          channel.off('close', done);
          resolve();
        };
        channel.once('drain', done);
        channel.once('close', done);
      }),
      this.timeoutMs,
      'RabbitMQ channel drain',
    );
    if (this.channel !== channel) throw new Error('RabbitMQ channel closed');
  }

  private open(): Promise<ConfirmChannel> {
    if (this.channel) return Promise.resolve(this.channel);
    this.opening ??= this.connect().finally(() => (this.opening = null));
    return this.opening;
  }

  private async connect(): Promise<ConfirmChannel> {
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
    const lose = () => (this.channel = this.channel === channel ? null : this.channel);
    channel.on('error', lose);
    channel.on('close', lose);
    // The broker returns an unroutable message before it confirms it: from then on no confirm of the channel
    // counts (later messages must not overtake it), and the channel goes.
    const returned = { error: null as Error | null };
    this.returned.set(channel, returned);
    channel.on('return', (message: { fields: { exchange: string; routingKey: string } }) => {
      const { exchange, routingKey: key } = message.fields;
      returned.error ??= new Error(
        `RabbitMQ returned an unroutable message (exchange ${exchange}, routing key ${key})`,
      );
      void this.drop();
    });
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
