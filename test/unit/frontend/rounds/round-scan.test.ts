// A round found in a client's read without framing it: its shape, its key parameter, its renamed Bind.
import { describe, expect, it } from 'vitest';
import {
  boundParamText,
  scanRound,
  shardRoundBytes,
  type RoundLayout,
} from '../../../../src/frontend/rounds/round-scan.js';
import { readBind } from '../../../../src/protocol/extended-messages.js';
import { Frontend } from '../../../../src/protocol/codes.js';
import { MessageWriter } from '../../../../src/protocol/writer.js';

const parse = (name = '') =>
  new MessageWriter(Frontend.Parse).cstring(name).cstring('SELECT v FROM t WHERE id = $1').int16(0).finish();
const describePortal = new MessageWriter(Frontend.Describe).int8(0x50).cstring('').finish();
const describeStatement = new MessageWriter(Frontend.Describe).int8(0x53).cstring('').finish();
/** A row limit goes to the shard with the rest: its PortalSuspended reaches the client as PostgreSQL's. */
const execute = (maxRows = 0) => new MessageWriter(Frontend.Execute).cstring('').int32(maxRows).finish();
const sync = new MessageWriter(Frontend.Sync).finish();
const flush = new MessageWriter(Frontend.Flush).finish();

interface BindSpec {
  portal?: string;
  statement?: string;
  formats?: number[];
  values?: (Buffer | string | null)[];
  resultFormats?: number[];
}

function bind(spec: BindSpec = {}): Buffer {
  const w = new MessageWriter(Frontend.Bind).cstring(spec.portal ?? '').cstring(spec.statement ?? '');
  const formats = spec.formats ?? [];
  w.int16(formats.length);
  for (const f of formats) w.int16(f);
  const values = spec.values ?? ['42'];
  w.int16(values.length);
  for (const v of values) {
    if (v === null) w.int32(-1);
    else {
      const b = typeof v === 'string' ? Buffer.from(v) : v;
      w.int32(b.length).bytes(b);
    }
  }
  const results = spec.resultFormats ?? [];
  w.int16(results.length);
  for (const f of results) w.int16(f);
  return w.finish();
}

const round = (...messages: Buffer[]) => Buffer.concat(messages);

describe('scanRound', () => {
  it('finds the rounds drivers send, with and without a Parse and a Describe of the portal', () => {
    const b = bind({ statement: 'stmt_1' });
    const named = round(b, describePortal, execute(), sync);
    expect(scanRound(named)).toEqual({ parse: -1, bind: 0, bindEnd: b.length, nameStart: 6, nameEnd: 12 });
    const p = parse();
    const unnamed = round(p, bind(), execute(), sync);
    expect(scanRound(unnamed)).toMatchObject({ parse: 0, bind: p.length, nameStart: p.length + 6 });
    expect(scanRound(unnamed)!.nameEnd).toBe(p.length + 6);
  });

  it('refuses every other shape, which the framed paths handle', () => {
    const refused = {
      'a named Parse': round(parse('s1'), bind({ statement: 's1' }), execute(), sync),
      'a Parse with a Bind of another statement': round(parse(), bind({ statement: 's1' }), execute(), sync),
      'a named portal': round(bind({ portal: 'p1' }), execute(), sync),
      'a Describe of the statement': round(bind(), describeStatement, execute(), sync),
      'an Execute of another portal': round(
        bind(),
        new MessageWriter(Frontend.Execute).cstring('p1').int32(0).finish(),
        sync,
      ),
      'no Execute': round(bind(), sync),
      'no Sync': round(bind(), execute()),
      'a Flush instead of Sync': round(bind(), execute(), flush),
      'a second round after the first': round(bind(), execute(), sync, bind(), execute(), sync),
      'a round cut short': round(bind(), execute(), sync).subarray(0, 20),
      'an empty read': Buffer.alloc(0),
    };
    for (const [shape, bytes] of Object.entries(refused))
      expect([shape, scanRound(bytes)]).toEqual([shape, null]);
  });

  it('refuses a message whose length points outside the read, or below the minimum', () => {
    const bytes = round(bind(), execute(), sync);
    const huge = Buffer.from(bytes);
    huge.writeInt32BE(10_000, 1);
    expect(scanRound(huge)).toBeNull();
    const tiny = Buffer.from(bytes);
    tiny.writeInt32BE(3, 1);
    expect(scanRound(tiny)).toBeNull();
  });
});

function keyOf(b: Buffer, n = 1, types: number[] = []): string | null | undefined {
  const bytes = round(b, execute(), sync);
  const layout = scanRound(bytes);
  expect(layout).not.toBeNull();
  return boundParamText(bytes, layout!, n, types);
}

const int4 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const int8 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
};

describe('boundParamText', () => {
  it('reads text values, and binary integers by their type or their width', () => {
    expect(keyOf(bind({ values: ['a', '-17', 'c'] }), 2)).toBe('-17');
    expect(keyOf(bind({ formats: [1], values: [int4(-5)] }))).toBe('-5');
    expect(keyOf(bind({ formats: [1], values: [int8(9007199254740993n)] }))).toBe('9007199254740993');
    expect(keyOf(bind({ formats: [0, 1], values: ['x', int4(7)] }), 2, [25, 23])).toBe('7');
    expect(keyOf(bind({ formats: [1, 0], values: [int4(7), 'é'] }), 2)).toBe('é');
    expect(keyOf(bind({ values: ['1', null] }), 2)).toBeNull();
  });

  it('gives up on what it cannot read, and on any malformed Bind', () => {
    expect(keyOf(bind({ values: ['1'] }), 2)).toBeUndefined();
    expect(keyOf(bind({ formats: [1], values: [Buffer.from('abc')] }))).toBeUndefined();
    expect(keyOf(bind({ formats: [2], values: ['1'] }))).toBeUndefined();
    expect(keyOf(bind({ formats: [0, 0, 0], values: ['1', '2'] }))).toBeUndefined();
    // Every truncation of a well-formed Bind, with its length field made to match.
    const whole = bind({ formats: [0], values: ['8', 'x'], resultFormats: [1] });
    for (let cut = 5; cut < whole.length; cut++) {
      const truncated = Buffer.from(whole.subarray(0, cut));
      truncated.writeInt32BE(cut - 1, 1);
      const bytes = round(truncated, execute(), sync);
      const layout = scanRound(bytes);
      if (layout) expect([cut, boundParamText(bytes, layout, 1, [])]).toEqual([cut, undefined]);
    }
    expect(keyOf(whole)).toBe('8');
  });
});

describe('shardRoundBytes', () => {
  it('copies an unnamed round as it is, and renames a named one with everything else kept', () => {
    const unnamed = round(parse(), bind(), execute(), sync);
    const copy = shardRoundBytes(unnamed, scanRound(unnamed)!);
    expect(copy.equals(unnamed)).toBe(true);
    expect(copy.buffer === unnamed.buffer && copy.byteOffset === unnamed.byteOffset).toBe(false);

    const spec = { statement: 'S_1', formats: [1], values: [int4(3)], resultFormats: [1] };
    const named = round(bind(spec), describePortal, execute(5), sync);
    const layout: RoundLayout = scanRound(named)!;
    const renamed = shardRoundBytes(named, layout, 'pp_a_much_longer_server_name');
    const expected = round(
      bind({ ...spec, statement: 'pp_a_much_longer_server_name' }),
      describePortal,
      execute(5),
      sync,
    );
    expect(renamed.equals(expected)).toBe(true);
    expect(readBind(renamed, 5, scanRound(renamed)!.bindEnd).statement).toBe('pp_a_much_longer_server_name');
  });
});
