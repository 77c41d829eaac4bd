// The publish plugin to SQS through failures: ElasticMQ killed (SIGKILL) and restarted mid-stream, then the
// publishing proxy (the built CLI in its own process) killed and another started. On a FIFO queue (one message
// group per row) every committed row arrives at least once, none from a rolled-back transaction, and per key the
// values first arrive in commit order.
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { checkDeliveryThroughCrashes } from './publish-crash-check.js';
import { takeAllSqs } from './publish-helpers.js';
import { startStreamRig, type StreamRig } from './stream-rig.js';

const slot = 'polyproxy_publish_sqs_crash';

let rig: StreamRig;
let queueUrl: string;

const plugins = () => ({
  publish: {
    sqs: { endpoint: rig.elastic.endpoint, region: 'us-east-1', access_key_id: 'x', secret_access_key: 'x' },
    slot,
    publication: slot,
    timeout: '3s',
    connect_timeout: '2s',
    tables: { sqs_crash_items: { sqs: { queue_url: queueUrl } } },
  },
});

beforeAll(async () => {
  rig = await startStreamRig({
    sqs: true,
    schema: 'CREATE TABLE sqs_crash_items (id int PRIMARY KEY, v int NOT NULL)',
  });
  const created = await rig.sqs.send(
    new CreateQueueCommand({ QueueName: 'crash.fifo', Attributes: { FifoQueue: 'true' } }),
  );
  queueUrl = created.QueueUrl!;
}, 240_000);

afterAll(() => rig?.stop(), 60_000);

describe('publishing to SQS through a broker crash and a proxy crash', () => {
  it('delivers every committed row at least once, in commit order per key, and nothing rolled back', async () => {
    await checkDeliveryThroughCrashes({
      rig,
      table: 'sqs_crash_items',
      slot,
      broker: rig.elastic,
      plugins: plugins(),
      takeAll: () => takeAllSqs(rig.sqs, queueUrl),
      label: 'SQS crash test',
    });
  }, 400_000);
});
