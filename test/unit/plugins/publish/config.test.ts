// The publish plugin's config: defaults, and errors that name the key path under plugins.publish.
import { describe, expect, it } from 'vitest';
import { checkPlugins } from '../../../../src/plugins/registry.js';
import { publishConfigSchema } from '../../../../src/plugins/builtin/publish/config.js';
import { isoMicros, outgoing, targetFinder } from '../../../../src/plugins/builtin/publish/message.js';

const problems = (publish: unknown) => checkPlugins({ publish }, '.');

describe('plugins.publish config', () => {
  it('fills in the defaults', () => {
    const config = publishConfigSchema.parse({
      rabbitmq: { url: 'amqp://127.0.0.1:5672' },
      tables: { outbox: { rabbitmq: { exchange: 'events' }, delete_after_publish: true } },
    });
    expect(config.slot).toBe('polyproxy_publish');
    expect(config.timeout).toBe(10_000);
    expect(config.max_in_flight).toBe(10_000);
    expect(config.tables.outbox!.rabbitmq).toEqual({
      exchange: 'events',
      routing_key: '{schema}.{table}.{op}',
      mandatory: true,
      batch: 1,
    });
  });

  it('names the key path of each problem', async () => {
    expect(await problems({ tables: { t: {} } })).toEqual([
      'plugins.publish.tables.t: give rabbitmq, sqs or both: where its changes go',
    ]);
    expect(await problems({ tables: { t: { sqs: { queue_url: 'http://q/1' } } } })).toEqual([
      'plugins.publish.sqs: required: table t publishes to SQS',
    ]);
    expect(
      await problems({ rabbitmq: { url: 'http://x' }, tables: { t: { rabbitmq: { exchange: 'e' } } } }),
    ).toEqual(['plugins.publish.rabbitmq.url: expected amqp: or amqps://, got http://']);
    expect(
      await problems({
        rabbitmq: { url: 'amqp://x' },
        slot: 'Bad-Slot',
        tables: { t: { rabbitmq: { exchange: 'e' } } },
      }),
    ).toEqual(['plugins.publish.slot: expected lower-case letters, digits and underscores (at most 63)']);
    const base = { rabbitmq: { url: 'amqp://x' }, tables: { t: { rabbitmq: { exchange: 'e' } } } };
    const [window] = await problems({ ...base, max_in_flight: 0 });
    expect(window).toMatch(/^plugins\.publish\.max_in_flight: /);
    const [batch] = await problems({ ...base, tables: { t: { rabbitmq: { exchange: 'e', batch: 1001 } } } });
    expect(batch).toMatch(/^plugins\.publish\.tables\.t\.rabbitmq\.batch: /);
  });
});

describe('publish messages', () => {
  const config = publishConfigSchema.parse({
    rabbitmq: { url: 'amqp://127.0.0.1' },
    tables: {
      outbox: { rabbitmq: { exchange: 'e' }, delete_after_publish: true },
      'app.items': { rabbitmq: { exchange: 'e' } },
    },
  });
  const find = targetFinder(config);

  it('matches `t` in any schema and `s.t` only in s', () => {
    expect(find('public.outbox')).toBeDefined();
    expect(find('other.outbox')).toBeDefined();
    expect(find('app.items')).toBeDefined();
    expect(find('public.items')).toBeUndefined();
  });

  it('writes commit times with microseconds in UTC', () => {
    expect(isoMicros(1_765_112_462_123_456n)).toBe('2025-12-07T13:01:02.123456Z');
  });

  it('publishes only inserts of an outbox, with ids unique per change', () => {
    const tx = {
      xid: 9,
      commitLsn: '0/10',
      commitTimeUs: 0n,
      changes: [
        { op: 'insert' as const, table: 'public.outbox', key: { id: '1' }, new: { id: '1' }, oldKey: null },
        { op: 'delete' as const, table: 'public.outbox', key: { id: '1' }, new: null, oldKey: null },
        {
          op: 'update' as const,
          table: 'app.items',
          key: { id: '2' },
          new: { id: '2' },
          oldKey: { id: '3' },
        },
        { op: 'insert' as const, table: 'public.other', key: { id: '1' }, new: { id: '1' }, oldKey: null },
      ],
    };
    const out = outgoing([tx], find);
    expect(out.map((o) => [o.message.id, o.message.op, o.message.table, o.message.old_key])).toEqual([
      ['0/10/0', 'insert', 'public.outbox', null],
      ['0/10/2', 'update', 'app.items', { id: '3' }],
    ]);
    expect(JSON.parse(out[1]!.body)).toEqual(out[1]!.message);
  });
});
