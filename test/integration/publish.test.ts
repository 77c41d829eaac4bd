// The publish plugin against real servers: rows committed straight to PostgreSQL reach RabbitMQ and SQS as JSON
// messages equal to the rows PostgreSQL returns; a rollback publishes nothing; an outbox empties once published;
// a stopped proxy's successor resumes from the confirmed position. Own primary (wal_level=logical).
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestProxy } from './helpers/proxy.js';
import { parseLsn } from '../../src/streams/lsn.js';
import { caughtUp, declareQueue, slotActive, takeAll, takeAllSqs, type Message } from './publish-helpers.js';
import { showStreams, startStreamRig, type StreamRig } from './stream-rig.js';

const slot = 'polyproxy_publish_test';
let rig: StreamRig;
let queueUrl: string;
let proxy: TestProxy | undefined;

function startPublisher(): Promise<TestProxy> {
  const publish = {
    rabbitmq: { url: rig.rabbit.url },
    sqs: { endpoint: rig.elastic.endpoint, region: 'us-east-1', access_key_id: 'x', secret_access_key: 'x' },
    slot,
    publication: slot,
    tables: {
      'public.pub_items': {
        rabbitmq: { exchange: 'events', routing_key: 'items.{op}' },
        sqs: { queue_url: queueUrl },
      },
      pub_burst: { rabbitmq: { exchange: 'events', routing_key: 'burst.{op}' } },
      pub_batched: { rabbitmq: { exchange: 'events', routing_key: 'batched.{op}', batch: 50 } },
      pub_outbox: {
        rabbitmq: { exchange: 'events', routing_key: 'outbox.{table}' },
        delete_after_publish: true,
      },
    },
  };
  return rig.startProxy({ publish });
}

/** The rows as PostgreSQL prints them in text form (no type parsing), by id. */
async function rowsAsText(table: string): Promise<Map<string, Record<string, string | null>>> {
  const { rows } = await rig.direct.query<Record<string, string | null>>({
    text: `SELECT * FROM ${table}`,
    types: { getTypeParser: () => (value: string) => value },
  });
  return new Map(rows.map((row) => [row.id!, row]));
}

beforeAll(async () => {
  rig = await startStreamRig({
    rabbitmq: true,
    sqs: true,
    schema: `
      CREATE TABLE pub_items (id int PRIMARY KEY, name text, price numeric(10,2), at timestamptz, tags text[]);
      CREATE TABLE pub_outbox (id bigserial PRIMARY KEY, aggregate text NOT NULL, payload jsonb NOT NULL);
      CREATE TABLE pub_other (id int PRIMARY KEY);
      CREATE TABLE pub_burst (id int PRIMARY KEY, v text NOT NULL);
      CREATE TABLE pub_batched (id int PRIMARY KEY, v text NOT NULL);
    `,
  });
  for (const queue of ['items', 'outbox', 'burst', 'batched'])
    await declareQueue(rig.rabbit.url, 'events', queue, `${queue}.*`);
  queueUrl = (await rig.sqs.send(new CreateQueueCommand({ QueueName: 'pub-items' }))).QueueUrl!;
  proxy = await startPublisher();
  await slotActive(rig.direct, slot);
}, 180_000);

afterAll(() => rig?.stop(), 60_000);

describe('publishing committed changes', () => {
  it('publishes inserts, updates and deletes as messages equal to the committed rows', async () => {
    const xids: number[] = [];
    for (let t = 0; t < 10; t++) {
      await rig.direct.query('BEGIN');
      for (let i = 1; i <= 10; i++) {
        const id = t * 10 + i;
        await rig.direct.query(
          "INSERT INTO pub_items VALUES ($1, $2, $3, now() - $1::int * interval '1.5 second', ARRAY['a', $2])",
          [id, `item "${id}" ü`, id * 1.25],
        );
      }
      xids.push(Number((await rig.direct.query('SELECT txid_current() AS x')).rows[0].x));
      await rig.direct.query('COMMIT');
    }
    await rig.direct.query('INSERT INTO pub_other VALUES (1)');
    await caughtUp(rig.direct, slot);
    const inserted = await rowsAsText('pub_items');
    await rig.direct.query("UPDATE pub_items SET name = name || ' x', price = NULL WHERE id <= 5");
    await rig.direct.query('DELETE FROM pub_items WHERE id > 95');
    await caughtUp(rig.direct, slot);
    const updated = await rowsAsText('pub_items');

    const messages = await takeAll(rig.rabbit.url, 'items');
    const inserts = messages.filter((m) => m.op === 'insert');
    expect(inserts.length).toBe(100);
    for (const m of inserts) {
      expect(m.table).toBe('public.pub_items');
      expect(m.new).toEqual(inserted.get(m.key!.id!));
      expect(m.key).toEqual({ id: m.new!.id });
    }
    expect([...new Set(inserts.map((m) => m.xid))]).toEqual(xids);
    expect(new Set(inserts.map((m) => m.id)).size).toBe(100);
    const updates = messages.filter((m) => m.op === 'update');
    expect(updates.map((m) => m.new)).toEqual([1, 2, 3, 4, 5].map((id) => updated.get(String(id))));
    const deletes = messages.filter((m) => m.op === 'delete');
    expect(deletes.map((m) => m.key)).toEqual([96, 97, 98, 99, 100].map((id) => ({ id: String(id) })));
    // Commit order: the LSNs never go down, and each message's commit time parses.
    const lsns = messages.map((m) => parseLsn(m.lsn));
    for (let i = 1; i < lsns.length; i++) expect(lsns[i]! >= lsns[i - 1]!).toBe(true);
    expect(messages.every((m) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(m.commit_time))).toBe(true);

    const fromSqs = await takeAllSqs(rig.sqs, queueUrl);
    expect(fromSqs.map((m) => m.id).sort()).toEqual(messages.map((m) => m.id).sort());
    expect(fromSqs.find((m) => m.key?.id === '7' && m.op === 'insert')?.new).toEqual(inserted.get('7'));
  });

  it('publishes nothing of a rolled-back transaction', async () => {
    await rig.direct.query('BEGIN');
    await rig.direct.query("INSERT INTO pub_items (id, name) VALUES (1001, 'rolled back')");
    await rig.direct.query('ROLLBACK');
    await rig.direct.query("INSERT INTO pub_items (id, name) VALUES (1002, 'committed')");
    await caughtUp(rig.direct, slot);
    const messages = await takeAll(rig.rabbit.url, 'items');
    expect(messages.map((m) => m.key)).toEqual([{ id: '1002' }]);
  });

  it('deletes outbox rows once the broker confirmed them', async () => {
    const { rows } = await rig.direct.query<{ row: Record<string, string> }>(`
      INSERT INTO pub_outbox (aggregate, payload)
      SELECT 'order', jsonb_build_object('n', g, 'note', 'x' || g) FROM generate_series(1, 50) g
      RETURNING json_build_object('id', id::text, 'aggregate', aggregate, 'payload', payload::text) AS row`);
    await caughtUp(rig.direct, slot);
    expect(Number((await rig.direct.query('SELECT count(*) AS n FROM pub_outbox')).rows[0].n)).toBe(0);
    const messages: Message[] = await takeAll(rig.rabbit.url, 'outbox');
    // The deletes of the published rows are not published themselves.
    expect(messages.every((m) => m.op === 'insert')).toBe(true);
    expect(messages.map((m) => m.new)).toEqual(rows.map((r) => r.row));
  });

  it('resumes from the confirmed position after the proxy stopped', async () => {
    await proxy!.close();
    proxy = undefined;
    await rig.direct.query(
      "INSERT INTO pub_items (id, name) SELECT g, 'while down' FROM generate_series(2001, 2020) g",
    );
    proxy = await startPublisher();
    await caughtUp(rig.direct, slot);
    const messages = await takeAll(rig.rabbit.url, 'items');
    expect(messages.map((m) => Number(m.key!.id))).toEqual(Array.from({ length: 20 }, (_, i) => 2001 + i));
  });

  it('publishes runs of changes with one routing key as JSON arrays with batch, in commit order', async () => {
    for (let t = 0; t < 4; t++) {
      const inserts = Array.from(
        { length: 30 },
        (_, i) => `INSERT INTO pub_batched VALUES (${t * 30 + i}, 'v')`,
      );
      await rig.direct.query(`BEGIN; ${inserts.join('; ')}; COMMIT`);
    }
    await rig.direct.query("UPDATE pub_batched SET v = 'w' WHERE id < 10");
    await caughtUp(rig.direct, slot);
    const connection = await amqp.connect(rig.rabbit.url);
    const bodies: unknown[] = [];
    try {
      const channel = await connection.createChannel();
      for (
        let got = await channel.get('batched', { noAck: true });
        got;
        got = await channel.get('batched', { noAck: true })
      ) {
        const batch = JSON.parse(got.content.toString()) as Message[];
        expect(got.properties.type).toBe('batch');
        expect(got.properties.headers?.['x-changes']).toBe(batch.length);
        expect(got.properties.messageId).toBe(batch[0]!.id);
        expect(new Set(batch.map((m) => m.op)).size).toBe(1);
        bodies.push(batch);
      }
    } finally {
      await connection.close();
    }
    const changes = (bodies as Message[][]).flat();
    expect(bodies.length).toBeLessThan(changes.length);
    expect((bodies as Message[][]).every((batch) => batch.length <= 50)).toBe(true);
    expect(changes.map((m) => `${m.op} ${m.key!.id}`)).toEqual([
      ...Array.from({ length: 120 }, (_, i) => `insert ${i}`),
      ...Array.from({ length: 10 }, (_, i) => `update ${i}`),
    ]);
  });

  it('publishes a transaction larger than a part (1,000 changes) in parts, ids numbered across them', async () => {
    await rig.direct.query(
      "INSERT INTO pub_burst SELECT g, 'large' FROM generate_series(1000001, 1003500) g",
    );
    await caughtUp(rig.direct, slot);
    const messages = await takeAll(rig.rabbit.url, 'burst');
    expect(messages.map((m) => Number(m.key!.id))).toEqual(
      Array.from({ length: 3500 }, (_, i) => 1000001 + i),
    );
    expect(new Set(messages.map((m) => m.lsn)).size).toBe(1);
    expect(messages.map((m) => m.id)).toEqual(messages.map((m, i) => `${m.lsn}/${i}`));
  });

  it('shows the stream in SHOW STREAMS and its lag in the metrics', async () => {
    const mine = (await showStreams(proxy!)).find(
      (row) => row.consumer === 'publish' && row.slot === slot && row.consuming === '1',
    );
    expect(mine).toBeDefined();
    expect(mine!.database).toBe('app');
    const text = await (await fetch(`http://127.0.0.1:${proxy!.adminPort}/metrics`)).text();
    expect(text).toMatch(
      new RegExp(`polyproxy_stream_lag_bytes\\{consumer="publish",[^}]*slot="${slot}"\\} \\d+`),
    );
    expect(text).toMatch(
      /polyproxy_plugin_publish_messages_published_total\{destination="rabbitmq",target="events"\} [1-9]/,
    );
  });

  it('keeps up with a burst of 20,000 single-row inserts (measured, printed)', async () => {
    const rows = 20_000;
    const perTransaction = 100;
    const started = Date.now();
    for (let t = 0; t < rows / perTransaction; t++) {
      const values = Array.from({ length: perTransaction }, (_, i) => `(${t * perTransaction + i}, 'v${t}')`);
      const inserts = values.map((row) => `INSERT INTO pub_burst VALUES ${row}`).join('; ');
      await rig.direct.query(`BEGIN; ${inserts}; COMMIT`);
    }
    const committed = Date.now();
    await caughtUp(rig.direct, slot, 120_000);
    const done = Date.now();
    const connection = await amqp.connect(rig.rabbit.url);
    try {
      const channel = await connection.createChannel();
      // At least once: a batch whose confirms outlast the timeout on a loaded machine is sent again.
      expect((await channel.checkQueue('burst')).messageCount).toBeGreaterThanOrEqual(rows);
      await channel.purgeQueue('burst');
    } finally {
      await connection.close();
    }
    console.log(
      `publish burst: ${rows} rows committed in ${committed - started} ms, all confirmed by RabbitMQ after ${done - started} ms ` +
        `(${Math.round((rows * 1000) / (done - started))} changes/s; lag after the last commit ${done - committed} ms)`,
    );
  });
});
