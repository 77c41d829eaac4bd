// The unsharded fast path's per-message shortcuts keep their results: LRU repeat hits, whole-chunk relays and
// batches, the one-server shard's read routing.
import { afterEach, describe, expect, it } from 'vitest';
import { ResponseRelay, type RelayTarget } from '../../../src/backend/response-relay.js';
import { Shard } from '../../../src/backend/shard.js';
import { parseConfig } from '../../../src/config/load.js';
import { ServerBatch } from '../../../src/frontend/server-batch.js';
import { silentLogger } from '../../../src/logger.js';
import { Lru } from '../../../src/sql/lru.js';
import * as w from '../fixtures/wire.js';

describe('Lru repeat hits', () => {
  it('a key hit twice in a row counts two hits and keeps its value', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    expect([lru.get('a'), lru.get('a'), lru.get('a')]).toEqual([1, 1, 1]);
    expect(lru.hits).toBe(3);
  });

  it('a set of the last key hit is seen by the next get', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.get('a');
    lru.set('a', 2);
    expect(lru.get('a')).toBe(2);
  });

  it('the last key hit can be deleted and evicted', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.get('a');
    lru.delete('a');
    expect(lru.get('a')).toBeUndefined();
    lru.set('b', 2);
    lru.get('b');
    lru.set('c', 3);
    lru.set('d', 4);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.misses).toBe(2);
  });

  it('a repeat hit leaves the key the newest, as a moved one would be', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.get('a');
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
  });

  it('a fresh string equal to the key hits', () => {
    const lru = new Lru<string, number>(2);
    lru.set('select ?', 1);
    const text = ['select', '?'].join(' ');
    expect([lru.get(text), lru.get(['select', '?'].join(' '))]).toEqual([1, 1]);
  });
});

class Sink implements RelayTarget {
  sent: Buffer[] = [];
  statuses: number[] = [];
  send(chunk: Buffer): void {
    this.sent.push(chunk);
  }
  onReady(status: number): void {
    this.statuses.push(status);
  }
  onParameterStatus(): void {}
  onServerLost(): void {}
}

const reply = (status: 'I' | 'T' | 'E') =>
  Buffer.concat([w.commandComplete('SELECT 1'), w.readyForQuery(status)]);

describe('ResponseRelay whole chunks', () => {
  it('a reply that is the whole read reaches the client as that very buffer', () => {
    const relay = new ResponseRelay();
    const sink = new Sink();
    relay.target = sink;
    const chunk = reply('I');
    relay.sendEpoch = 1;
    relay.process(chunk);
    expect(sink.sent).toHaveLength(1);
    expect(sink.sent[0]).toBe(chunk);
  });

  it('reads every round’s status, whole or split before its status byte', () => {
    const relay = new ResponseRelay();
    const sink = new Sink();
    relay.target = sink;
    relay.sendEpoch = 3;
    relay.process(reply('T'));
    const split = reply('E');
    relay.process(split.subarray(0, split.length - 1));
    relay.process(split.subarray(split.length - 1));
    relay.process(reply('I'));
    expect(sink.statuses).toEqual([0x54, 0x45, 0x49]);
    expect(Buffer.concat(sink.sent)).toEqual(Buffer.concat([reply('T'), split, reply('I')]));
  });
});

describe('ServerBatch whole reads', () => {
  it('a whole read goes as that buffer, part of one as a view, and a batch never repeats', () => {
    const batch = new ServerBatch();
    const read = Buffer.concat([w.query('select 1'), w.query('select 2')]);
    batch.pass(read, 0, read.length);
    expect(batch.take()).toBe(read);
    expect(batch.take()).toBeNull();
    batch.pass(read, 0, 14);
    batch.push(w.query('select 3'));
    expect(batch.take()).toEqual(Buffer.concat([read.subarray(0, 14), w.query('select 3')]));
    expect(batch.take()).toBeNull();
  });
});

describe('Shard.choose with one server', () => {
  let shard: Shard | null = null;
  afterEach(async () => {
    await shard?.close();
    shard = null;
  });

  const oneServer = (primaryReads: boolean) => {
    const config = parseConfig(
      [
        'listen: 127.0.0.1:6432',
        'users: [{ name: app, password: pw }]',
        'databases:',
        '  app:',
        '    backend: { user: postgres, password: "", database: app }',
        '    shards: [{ primary: 127.0.0.1:1 }]',
        `    routing: { primary_reads: ${primaryReads} }`,
      ].join('\n'),
    );
    return (shard = new Shard(0, config.databases.app, silentLogger));
  };

  it('routes reads to the primary as no usable replica, the same choice object every time', () => {
    const s = oneServer(false);
    const first = s.choose('read', 'select', null);
    expect(first?.decision).toEqual({
      role: 'primary',
      shard: 0,
      host: '127.0.0.1:1',
      reason: 'select,no-usable-replica',
    });
    expect(s.choose('read', 'select', 10n)).toBe(first);
    expect(s.choose('read', 'select', null, new Set(['127.0.0.1:1']))).toBe(first);
    expect(s.choose('write', 'insert', null)?.decision.reason).toBe('insert');
  });

  it('with primary_reads, reads keep their own reason', () => {
    const s = oneServer(true);
    expect(s.choose('read', 'select', null)?.decision.reason).toBe('select');
  });
});
