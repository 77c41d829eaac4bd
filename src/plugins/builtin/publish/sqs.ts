// Publishes change messages to SQS queues (AWS or an SQS-compatible server) in batches of ten, order kept per row.
import { createHash } from 'node:crypto';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { PublishConfig } from './config.js';
import type { Outgoing } from './message.js';
import { withTimeout } from './timeout.js';

/** Messages of one row always go through the same lane, one request at a time, so they arrive in order. */
const lanes = 8;
const batchSize = 10;

const hash = (text: string) => createHash('sha1').update(text).digest('hex');

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

  /** Resolves once SQS accepted every message; any refused entry fails the whole call (it is tried again). */
  async publish(items: readonly Outgoing[]): Promise<void> {
    if (items.length === 0) return;
    const byLane: Outgoing[][] = Array.from({ length: lanes }, () => []);
    for (const item of items)
      byLane[Number.parseInt(hash(item.orderKey).slice(0, 8), 16) % lanes]!.push(item);
    await withTimeout(
      Promise.all(byLane.map((lane) => this.sendLane(lane))),
      this.timeoutMs,
      'SQS SendMessageBatch',
    );
  }

  private async sendLane(lane: readonly Outgoing[]): Promise<void> {
    let start = 0;
    while (start < lane.length) {
      const queue = lane[start]!.target.sqs!.queue_url;
      let end = start + 1;
      while (end < lane.length && end - start < batchSize && lane[end]!.target.sqs!.queue_url === queue)
        end++;
      await this.sendBatch(queue, lane.slice(start, end));
      start = end;
    }
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
