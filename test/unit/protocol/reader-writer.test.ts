// MessageReader bounds checks and MessageWriter growth, each checked against the fixtures.
import { describe, expect, it } from 'vitest';
import { MalformedMessage, MessageReader } from '../../../src/protocol/reader.js';
import { MessageWriter } from '../../../src/protocol/writer.js';
import * as w from '../fixtures/wire.js';

describe('MessageReader', () => {
  it('reads fields of a message embedded at an offset in a larger buffer', () => {
    const m = w.msg('X', w.int8(7), w.int16(-2), w.int32(-3), w.cstring('ünï'), w.bytes([9, 8, 7]));
    const buf = Buffer.concat([Buffer.from('garbage'), m, Buffer.from('more')]);
    const r = new MessageReader(buf, 7 + 5, 7 + m.length);
    expect(r.int8()).toBe(7);
    expect(r.int16()).toBe(-2);
    expect(r.int32()).toBe(-3);
    expect(r.cstring()).toBe('ünï');
    expect(r.remaining()).toBe(3);
    expect([...r.rest()]).toEqual([9, 8, 7]);
    expect(r.remaining()).toBe(0);
  });

  it('throws MalformedMessage instead of reading past the end', () => {
    const buf = Buffer.from([1, 2, 3, 4, 5, 6]);
    expect(() => new MessageReader(buf, 0, 0).int8()).toThrow(MalformedMessage);
    expect(() => new MessageReader(buf, 0, 1).int16()).toThrow(MalformedMessage);
    expect(() => new MessageReader(buf, 0, 3).int32()).toThrow(MalformedMessage);
    expect(() => new MessageReader(buf, 0, 3).bytes(4)).toThrow(MalformedMessage);
    expect(() => new MessageReader(buf, 0, 3).bytes(-1)).toThrow(MalformedMessage);
  });

  it('does not take a NUL beyond the end as a string terminator', () => {
    const buf = Buffer.concat([Buffer.from('abc'), Buffer.from([0])]);
    expect(() => new MessageReader(buf, 0, 3).cstring()).toThrow(MalformedMessage);
    expect(() => new MessageReader(Buffer.from('abc'), 0, 3).cstring()).toThrow(MalformedMessage);
    expect(new MessageReader(buf, 0, 4).cstring()).toBe('abc');
  });
});

describe('MessageWriter', () => {
  it('writes a typed message identical to the fixture', () => {
    const built = new MessageWriter(0x58)
      .int8(7)
      .int16(-2)
      .int32(-3)
      .cstring('ünï')
      .bytes(Buffer.from([9, 8]))
      .finish();
    const fixture = w.msg('X', w.int8(7), w.int16(-2), w.int32(-3), w.cstring('ünï'), w.bytes([9, 8]));
    expect(built.toString('hex')).toBe(fixture.toString('hex'));
  });

  it('writes an untyped packet identical to the fixture', () => {
    const built = new MessageWriter(null).int32(w.sslRequestCode).finish();
    expect(built.toString('hex')).toBe(w.sslRequest().toString('hex'));
  });

  it('grows past its capacity without losing earlier fields', () => {
    const long = 'ä'.repeat(1000);
    const built = new MessageWriter(0x51, 1)
      .int32(1)
      .cstring(long)
      .int16(5)
      .bytes(Buffer.alloc(3000, 1))
      .cstring('end')
      .finish();
    const fixture = w.msg(
      'Q',
      w.int32(1),
      w.cstring(long),
      w.int16(5),
      Buffer.alloc(3000, 1),
      w.cstring('end'),
    );
    expect(built.equals(fixture)).toBe(true);
  });
});
