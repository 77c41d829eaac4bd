// Shared by the change-stream tests: reading back what reached RabbitMQ and SQS, and waiting for the stream.
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import amqp from 'amqplib';
import type pg from 'pg';
import { waitFor } from '../../src/sandbox/wait.js';

export interface Message {
  id: string;
  op: string;
  table: string;
  key: Record<string, string | null> | null;
  new: Record<string, string | null> | null;
  old_key: Record<string, string | null> | null;
  lsn: string;
  xid: number;
  commit_time: string;
}

/** Takes every message now in the queue (basic.get, acknowledged), in queue order. */
export async function takeAll(url: string, queue: string): Promise<Message[]> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    const out: Message[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      const got = await channel.get(queue, { noAck: true });
      if (!got) break;
      out.push(JSON.parse(got.content.toString()) as Message);
    }
    return out;
  } finally {
    await connection.close().catch(() => {});
  }
}

/** Declares a durable topic exchange and a durable queue bound to it with `pattern`. */
export async function declareQueue(
  url: string,
  exchange: string,
  queue: string,
  pattern: string,
): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, exchange, pattern);
  } finally {
    await connection.close().catch(() => {});
  }
}

export const sqsClient = (endpoint: string) =>
  new SQSClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

/** Receives and deletes every message now in the SQS queue, in the order received. */
export async function takeAllSqs(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < 100_000; i++) {
    const got = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = got.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) out.push(JSON.parse(message.Body!) as Message);
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return out;
}

/** Waits until the slot confirmed everything committed so far: every change before now was published. */
export async function caughtUp(direct: pg.Client, slot: string, timeoutMs = 60_000): Promise<void> {
  const { rows } = await direct.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  const target = rows[0]!.lsn;
  await waitFor(
    async () =>
      (
        await direct.query<{ done: boolean }>(
          'SELECT confirmed_flush_lsn >= $2::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $1',
          [slot, target],
        )
      ).rows[0]?.done === true,
    { timeoutMs, intervalMs: 50, what: `slot ${slot} to confirm ${target}` },
  );
}

/** Per key, the values in the order they first arrived: duplicates of at-least-once delivery set aside. */
export function firstArrivals(
  messages: readonly Message[],
  value: (m: Message) => string,
): Map<string, string[]> {
  const seen = new Set<string>();
  const byKey = new Map<string, string[]>();
  for (const m of messages) {
    const key = JSON.stringify(m.key);
    const v = value(m);
    if (seen.has(`${key} ${v}`)) continue;
    seen.add(`${key} ${v}`);
    byKey.set(key, [...(byKey.get(key) ?? []), v]);
  }
  return byKey;
}

/** Whether an instance consumes the slot now. */
export async function slotIsActive(direct: pg.Client, slot: string): Promise<boolean> {
  const { rows } = await direct.query<{ active: boolean }>(
    'SELECT active FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  return rows[0]?.active === true;
}

/** Waits until an instance consumes the slot (the first consumer creates it: changes before that are not in it). */
export async function slotActive(direct: pg.Client, slot: string): Promise<void> {
  await waitFor(() => slotIsActive(direct, slot), { timeoutMs: 60_000, what: `slot ${slot} to be consumed` });
}
