// What the publish plugin does with each batch of committed transactions: publish, wait for confirms, clean the outbox.
import type { Sink } from '../../../streams/pipeline.js';
import type { CounterLike, PluginMetrics } from '../../api.js';
import type { PublishConfig, TableTarget } from './config.js';
import { outgoing, targetFinder, type Outgoing } from './message.js';
import type { OutboxCleaner } from './outbox.js';
import type { RabbitPublisher } from './rabbitmq.js';
import type { SqsPublisher } from './sqs.js';

export interface PublishCounters {
  readonly published: CounterLike;
  readonly failed: CounterLike;
}

export function publishCounters(metrics: PluginMetrics): PublishCounters {
  return {
    published: metrics.counter('messages_published_total', 'Change messages the broker confirmed', [
      'destination',
      'target',
    ]),
    failed: metrics.counter(
      'messages_failed_total',
      'Change messages in batches that failed (they are published again, with the whole batch)',
      ['destination', 'target'],
    ),
  };
}

/** Counts per destination and exchange or queue, as the metrics label them. */
function countBy(
  items: readonly Outgoing[],
  target: (item: TableTarget) => string | undefined,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const name = target(item.target);
    if (name !== undefined) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

export interface Destinations {
  readonly rabbitmq: RabbitPublisher | null;
  readonly sqs: SqsPublisher | null;
}

/**
 * Returns the sink maker of one stream: each replication connection gets lanes of its own on every broker, and
 * a batch resolves once every broker confirmed it (and its outbox rows are deleted). Batches overlap: the
 * next is sent while earlier ones await their confirms.
 */
export function publishSink(
  config: PublishConfig,
  destinations: Destinations,
  outbox: OutboxCleaner,
  counters: PublishCounters,
): () => Sink {
  const find = targetFinder(config);
  const counted = async (
    destination: 'rabbitmq' | 'sqs',
    items: readonly Outgoing[],
    sent: Promise<void>,
  ) => {
    const counts = countBy(items, (target) =>
      destination === 'rabbitmq' ? target.rabbitmq?.exchange : target.sqs?.queue_url,
    );
    try {
      await sent;
    } catch (error) {
      for (const [target, n] of counts) counters.failed.inc({ destination, target }, n);
      throw error;
    }
    for (const [target, n] of counts) counters.published.inc({ destination, target }, n);
  };
  return () => {
    const rabbitmq = destinations.rabbitmq?.lane();
    const sqs = destinations.sqs?.lane();
    return async (transactions) => {
      const items = outgoing(transactions, find);
      if (items.length === 0) return;
      const toRabbit = rabbitmq ? items.filter((item) => item.target.rabbitmq) : [];
      const toSqs = sqs ? items.filter((item) => item.target.sqs) : [];
      // Both lanes take the batch now (in call order); both must confirm before the slot moves.
      const sends = [
        toRabbit.length > 0 ? counted('rabbitmq', toRabbit, rabbitmq!(toRabbit)) : null,
        toSqs.length > 0 ? counted('sqs', toSqs, sqs!(toSqs)) : null,
      ];
      const settled = await Promise.allSettled(sends);
      const failure = settled.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
      await outbox.delete(items);
    };
  };
}
