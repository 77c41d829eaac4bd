// The publish plugin against real servers: rows committed straight to PostgreSQL reach RabbitMQ and SQS as JSON
// messages equal to the rows PostgreSQL returns; a rollback publishes nothing; an outbox empties once published;
// a stopped proxy's successor resumes from the confirmed position. Own primary (wal_level=logical).
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import amqp from 'amqplib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startElasticMq, type ElasticMqServer } from '../../src/sandbox/elasticmq.js';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startRabbitMq, type RabbitMqServer } from '../../src/sandbox/rabbitmq.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { parseLsn } from '../../src/streams/lsn.js';
import {
  caughtUp,
  declareQueue,
  slotActive,
  sqsClient,
  takeAll,
  takeAllSqs,
  type Message,
} from './publish-helpers.js';

const slot = 'polyproxy_publish_test';
let cluster: Cluster;
let rabbit: RabbitMqServer;
let elastic: ElasticMqServer;
let sqs: SQSClient;
let queueUrl: string;
let direct: pg.Client;
let proxy: TestProxy | undefined;

async function startPublisher(): Promise<TestProxy> {
  const primary = cluster.shards[0]!.primary;
  const publish = {
    rabbitmq: { url: rabbit.url },
    sqs: { endpoint: elastic.endpoint, region: 'us-east-1', access_key_id: 'x', secret_access_key: 'x' },
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
  return startTestProxy({
    databasesYaml: [
      '  app:',
      `    backend: { user: postgres, password: ${JSON.stringify(cluster.password)}, database: app }`,
      '    pool: { mode: transaction, size: 2 }',
      `    shards: [{ primary: "${primary.host}:${primary.port}" }]`,
    ].join('\n'),
    pluginsYaml: `  publish: ${JSON.stringify(publish)}`,
    extraUsers: ['{ name: ops, password: ops-secret, admin: true }'],
  });
}

/** The rows as PostgreSQL prints them in text form (no type parsing), by id. */
async function rowsAsText(table: string): Promise<Map<string, Record<string, string | null>>> {
  const { rows } = await direct.query<Record<string, string | null>>({
    text: `SELECT * FROM ${table}`,
    types: { getTypeParser: () => (value: string) => value },
  });
  return new Map(rows.map((row) => [row.id!, row]));
}

beforeAll(async () => {
  [cluster, rabbit, elastic] = await Promise.all([
    startCluster({ shards: 1, replicasPerShard: 0 }),
    startRabbitMq(),
    startElasticMq(),
  ]);
  const primary = cluster.shards[0]!.primary;
  await primary.psql('CREATE DATABASE app');
  direct = new pg.Client({
    host: primary.host,
    port: primary.port,
    user: 'postgres',
    password: cluster.password,
    database: 'app',
  });
  await direct.connect();
  await direct.query(`
    CREATE TABLE pub_items (id int PRIMARY KEY, name text, price numeric(10,2), at timestamptz, tags text[]);
    CREATE TABLE pub_outbox (id bigserial PRIMARY KEY, aggregate text NOT NULL, payload jsonb NOT NULL);
    CREATE TABLE pub_other (id int PRIMARY KEY);
    CREATE TABLE pub_burst (id int PRIMARY KEY, v text NOT NULL);
    CREATE TABLE pub_batched (id int PRIMARY KEY, v text NOT NULL);
  `);
  await declareQueue(rabbit.url, 'events', 'items', 'items.*');
  await declareQueue(rabbit.url, 'events', 'outbox', 'outbox.*');
  await declareQueue(rabbit.url, 'events', 'burst', 'burst.*');
  await declareQueue(rabbit.url, 'events', 'batched', 'batched.*');
  sqs = sqsClient(elastic.endpoint);
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'pub-items' }))).QueueUrl!;
  proxy = await startPublisher();
  await slotActive(direct, slot);
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await direct?.end().catch(() => {});
  sqs?.destroy();
  await Promise.all([rabbit?.stop(), elastic?.stop(), cluster?.stop()]);
}, 60_000);

describe('publishing committed changes', () => {
  it('publishes inserts, updates and deletes as messages equal to the committed rows', async () => {
    const xids: number[] = [];
    for (let t = 0; t < 10; t++) {
      await direct.query('BEGIN');
      for (let i = 1; i <= 10; i++) {
        const id = t * 10 + i;
        await direct.query(
          "INSERT INTO pub_items VALUES ($1, $2, $3, now() - $1::int * interval '1.5 second', ARRAY['a', $2])",
          [id, `item "${id}" ü`, id * 1.25],
        );
      }
      xids.push(Number((await direct.query('SELECT txid_current() AS x')).rows[0].x));
      await direct.query('COMMIT');
    }
    await direct.query('INSERT INTO pub_other VALUES (1)');
    await caughtUp(direct, slot);
    const inserted = await rowsAsText('pub_items');
    await direct.query("UPDATE pub_items SET name = name || ' x', price = NULL WHERE id <= 5");
    await direct.query('DELETE FROM pub_items WHERE id > 95');
    await caughtUp(direct, slot);
    const updated = await rowsAsText('pub_items');

    const messages = await takeAll(rabbit.url, 'items');
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

    const fromSqs = await takeAllSqs(sqs, queueUrl);
    expect(fromSqs.map((m) => m.id).sort()).toEqual(messages.map((m) => m.id).sort());
    expect(fromSqs.find((m) => m.key?.id === '7' && m.op === 'insert')?.new).toEqual(inserted.get('7'));
  });

  it('publishes nothing of a rolled-back transaction', async () => {
    await direct.query('BEGIN');
    await direct.query("INSERT INTO pub_items (id, name) VALUES (1001, 'rolled back')");
    await direct.query('ROLLBACK');
    await direct.query("INSERT INTO pub_items (id, name) VALUES (1002, 'committed')");
    await caughtUp(direct, slot);
    const messages = await takeAll(rabbit.url, 'items');
    expect(messages.map((m) => m.key)).toEqual([{ id: '1002' }]);
  });

  it('deletes outbox rows once the broker confirmed them', async () => {
    const { rows } = await direct.query<{ row: Record<string, string> }>(`
      INSERT INTO pub_outbox (aggregate, payload)
      SELECT 'order', jsonb_build_object('n', g, 'note', 'x' || g) FROM generate_series(1, 50) g
      RETURNING json_build_object('id', id::text, 'aggregate', aggregate, 'payload', payload::text) AS row`);
    await caughtUp(direct, slot);
    expect(Number((await direct.query('SELECT count(*) AS n FROM pub_outbox')).rows[0].n)).toBe(0);
    const messages: Message[] = await takeAll(rabbit.url, 'outbox');
    // The deletes of the published rows are not published themselves.
    expect(messages.every((m) => m.op === 'insert')).toBe(true);
    expect(messages.map((m) => m.new)).toEqual(rows.map((r) => r.row));
  });

  it('resumes from the confirmed position after the proxy stopped', async () => {
    await proxy!.close();
    proxy = undefined;
    await direct.query(
      "INSERT INTO pub_items (id, name) SELECT g, 'while down' FROM generate_series(2001, 2020) g",
    );
    proxy = await startPublisher();
    await caughtUp(direct, slot);
    const messages = await takeAll(rabbit.url, 'items');
    expect(messages.map((m) => Number(m.key!.id))).toEqual(Array.from({ length: 20 }, (_, i) => 2001 + i));
  });

  it('publishes runs of changes with one routing key as JSON arrays with batch, in commit order', async () => {
    for (let t = 0; t < 4; t++) {
      const inserts = Array.from(
        { length: 30 },
        (_, i) => `INSERT INTO pub_batched VALUES (${t * 30 + i}, 'v')`,
      );
      await direct.query(`BEGIN; ${inserts.join('; ')}; COMMIT`);
    }
    await direct.query("UPDATE pub_batched SET v = 'w' WHERE id < 10");
    await caughtUp(direct, slot);
    const connection = await amqp.connect(rabbit.url);
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
    await direct.query("INSERT INTO pub_burst SELECT g, 'large' FROM generate_series(1000001, 1003500) g");
    await caughtUp(direct, slot);
    const messages = await takeAll(rabbit.url, 'burst');
    expect(messages.map((m) => Number(m.key!.id))).toEqual(
      Array.from({ length: 3500 }, (_, i) => 1000001 + i),
    );
    expect(new Set(messages.map((m) => m.lsn)).size).toBe(1);
    expect(messages.map((m) => m.id)).toEqual(messages.map((m, i) => `${m.lsn}/${i}`));
  });

  it('shows the stream in SHOW STREAMS and its lag in the metrics', async () => {
    const admin = new pg.Client({ ...proxy!.client('ops', 'polyproxy'), password: 'ops-secret' });
    await admin.connect();
    try {
      const { rows } = await admin.query('SHOW STREAMS');
      const mine = rows.find(
        (row) => row.consumer === 'publish' && row.slot === slot && row.consuming === '1',
      );
      expect(mine).toBeDefined();
      expect(mine.database).toBe('app');
    } finally {
      await admin.end();
    }
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
      await direct.query(`BEGIN; ${inserts}; COMMIT`);
    }
    const committed = Date.now();
    await caughtUp(direct, slot, 120_000);
    const done = Date.now();
    const connection = await amqp.connect(rabbit.url);
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
