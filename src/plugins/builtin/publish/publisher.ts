// What the publish plugin does with each batch of committed transactions: publish, wait for confirms, clean the outbox.
import type { StreamTransaction } from '../../../streams/row-changes.js';
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

/** Returns the applyTransactions of one stream: it resolves only once every broker confirmed the batch. */
export function batchPublisher(
  config: PublishConfig,
  destinations: Destinations,
  outbox: OutboxCleaner,
  counters: PublishCounters,
): (transactions: readonly StreamTransaction[]) => Promise<void> {
  const find = targetFinder(config);
  const send = async (
    destination: 'rabbitmq' | 'sqs',
    items: readonly Outgoing[],
    run: (items: readonly Outgoing[]) => Promise<void>,
  ) => {
    const counts = countBy(items, (target) =>
      destination === 'rabbitmq' ? target.rabbitmq?.exchange : target.sqs?.queue_url,
    );
    try {
      await run(items);
    } catch (error) {
      for (const [target, n] of counts) counters.failed.inc({ destination, target }, n);
      throw error;
    }
    for (const [target, n] of counts) counters.published.inc({ destination, target }, n);
  };
  return async (transactions) => {
    const items = outgoing(transactions, find);
    if (items.length === 0) return;
    const toRabbit = items.filter((item) => item.target.rabbitmq);
    const toSqs = items.filter((item) => item.target.sqs);
    const { rabbitmq, sqs } = destinations;
    // Both brokers must confirm before the slot moves; if one fails, both get the batch again (at least once).
    await Promise.all([
      rabbitmq && toRabbit.length > 0 ? send('rabbitmq', toRabbit, (list) => rabbitmq.publish(list)) : null,
      sqs && toSqs.length > 0 ? send('sqs', toSqs, (list) => sqs.publish(list)) : null,
    ]);
    await outbox.delete(items);
  };
}
