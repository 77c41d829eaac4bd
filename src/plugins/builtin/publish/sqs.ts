// Publishes change messages to SQS queues (AWS or an SQS-compatible server) in batches of ten, on lanes by row key:
// each lane sends one request at a time, so a row's changes arrive in order, and the lanes run side by side.
import { createHash } from 'node:crypto';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { PublishConfig } from './config.js';
import type { Outgoing } from './message.js';
import { withTimeout } from './timeout.js';

/** Requests in flight at most; the SDK's connection pool (50 sockets) serves them all. */
const lanes = 16;
const batchSize = 10;

const hash = (text: string) => createHash('sha1').update(text).digest('hex');

/** A message waiting on its lane, and the batch (publish call) it counts for. */
interface Queued {
  readonly item: Outgoing;
  readonly done: (error: Error | null) => void;
}

/** Sends batches in call order per row key; once one failed, every later one fails too (see lane()). */
export type SqsLane = (items: readonly Outgoing[]) => Promise<void>;

export class SqsPublisher {
  private readonly client: SQSClient;

  constructor(
    config: NonNullable<PublishConfig['sqs']>,
    private readonly timeoutMs: number,
  ) {
    const credentials =
      config.access_key_id && config.secret_access_key
        ? { accessKeyId: config.access_key_id, secretAccessKey: config.secret_access_key }
        : undefined;
    this.client = new SQSClient({
      region: config.region,
      endpoint: config.endpoint,
      credentials,
      maxAttempts: 1,
    });
  }

  /**
   * Lanes for one replication connection. Messages queue on their row's lane, which takes up to ten of them
   * (one queue URL) per request, from any number of calls; a call resolves once SQS accepted all of its
   * messages. After a failure every lane refuses the rest: sending them would put them before the failed
   * messages, which come again when the stream replays from its confirmed position.
   */
  lane(): SqsLane {
    const state = { broken: null as Error | null };
    const queues: Queued[][] = Array.from({ length: lanes }, () => []);
    const busy = new Array<boolean>(lanes).fill(false);
    const pump = async (lane: number) => {
      const queue = queues[lane]!;
      while (queue.length > 0) {
        const url = queue[0]!.item.target.sqs!.queue_url;
        let n = 1;
        while (n < queue.length && n < batchSize && queue[n]!.item.target.sqs!.queue_url === url) n++;
        const batch = queue.splice(0, n);
        try {
          if (state.broken) throw state.broken;
          await withTimeout(
            this.sendBatch(
              url,
              batch.map((q) => q.item),
            ),
            this.timeoutMs,
            'SQS SendMessageBatch',
          );
          for (const q of batch) q.done(null);
        } catch (error) {
          state.broken ??= error instanceof Error ? error : new Error(String(error));
          for (const q of batch) q.done(state.broken);
        }
      }
      busy[lane] = false;
    };
    return (items) => {
      if (items.length === 0) return Promise.resolve();
      if (state.broken) return Promise.reject(state.broken);
      return new Promise<void>((resolve, reject) => {
        let left = items.length;
        const done = (error: Error | null) => (error ? reject(error) : --left === 0 && resolve());
        for (const item of items) {
          const lane = Number.parseInt(hash(item.orderKey).slice(0, 8), 16) % lanes;
          queues[lane]!.push({ item, done });
          // Started after this call queued all its messages, so the first request is a full one.
          if (!busy[lane]) {
            busy[lane] = true;
            queueMicrotask(() => void pump(lane));
          }
        }
      });
    };
  }

  private async sendBatch(queueUrl: string, batch: readonly Outgoing[]): Promise<void> {
    const fifo = queueUrl.endsWith('.fifo');
    const result = await this.client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((item, index) => ({
          Id: String(index),
          MessageBody: item.body,
          // FIFO: one group per row keeps its order; the id makes a retry within five minutes a no-op.
          ...(fifo
            ? { MessageGroupId: hash(item.orderKey), MessageDeduplicationId: hash(item.message.id) }
            : {}),
        })),
      }),
    );
    const failed = result.Failed ?? [];
    if (failed.length > 0)
      throw new Error(
        `SQS refused ${failed.length} message(s): ${failed[0]?.Code} ${failed[0]?.Message ?? ''}`,
      );
  }

  close(): void {
    this.client.destroy();
  }
}
