// The publish plugin through failures: RabbitMQ killed (SIGKILL) and restarted mid-stream, then the publishing
// proxy (the built CLI in its own process) killed and another started. Every committed row arrives at least once,
// none from a rolled-back transaction, and per key the values first arrive in commit order.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { checkDeliveryThroughCrashes } from './publish-crash-check.js';
import { declareQueue, takeAll } from './publish-helpers.js';
import { startStreamRig, type StreamRig } from './stream-rig.js';

const slot = 'polyproxy_publish_crash';

let rig: StreamRig;

const plugins = () => ({
  publish: {
    rabbitmq: { url: rig.rabbit.url },
    slot,
    publication: slot,
    timeout: '3s',
    connect_timeout: '2s',
    tables: { crash_items: { rabbitmq: { exchange: 'crash', routing_key: 'items.{op}' } } },
  },
});

beforeAll(async () => {
  rig = await startStreamRig({
    rabbitmq: true,
    schema: 'CREATE TABLE crash_items (id int PRIMARY KEY, v int NOT NULL)',
  });
  await declareQueue(rig.rabbit.url, 'crash', 'crash', 'items.*');
}, 240_000);

afterAll(() => rig?.stop(), 60_000);

describe('publishing through a broker crash and a proxy crash', () => {
  it('delivers every committed row at least once, in commit order per key, and nothing rolled back', async () => {
    await checkDeliveryThroughCrashes({
      rig,
      table: 'crash_items',
      slot,
      broker: rig.rabbit,
      plugins: plugins(),
      takeAll: () => takeAll(rig.rabbit.url, 'crash'),
      label: 'crash test',
    });
  }, 400_000);
});
