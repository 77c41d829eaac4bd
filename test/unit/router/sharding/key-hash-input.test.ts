// Key literals read as PostgreSQL stores them; spellings whose value depends on session settings are refused.
import { describe, expect, it } from 'vitest';
import {
  boolValue,
  dateDays,
  numericKey,
  oidValue,
  timestampMicros,
} from '../../../../src/router/sharding/key-hash-input.js';
import { hashShard } from '../../../../src/router/sharding/pg-hash.js';
import { hashKeyTypeOf } from '../../../../src/router/sharding/key-types.js';
import { boundValueText } from '../../../../src/frontend/rounds/param-text.js';

describe('date and timestamp literals', () => {
  it('count days and microseconds from 2000-01-01', () => {
    expect(dateDays('2000-01-01')).toBe(0);
    expect(dateDays('1999-12-31')).toBe(-1);
    expect(dateDays('2000-03-01')).toBe(60);
    expect(dateDays('0001-01-01 BC')).toBe(dateDays('0001-01-01') - 366);
    expect(dateDays('infinity')).toBe(2147483647);
    expect(timestampMicros('2000-01-01 00:00:01.5')).toBe(1_500_000n);
    expect(timestampMicros('1999-12-31T23:59:59.999999')).toBe(-1n);
    expect(timestampMicros('2000-01-01 00:00:00.0000005')).toBe(0n);
    expect(timestampMicros('2000-01-01 00:00:00.0000015')).toBe(2n);
  });

  it('refuse spellings that depend on DateStyle or the clock', () => {
    for (const s of ['01/02/2020', 'today', '2020-02-30', 'Feb 3 2020', '2020-01-01 10:00+02'])
      expect(() => timestampMicros(s), s).toThrow(RangeError);
    expect(() => dateDays('2020-01-01 10:00')).toThrow(RangeError);
  });
});

describe('bool, oid and numeric literals', () => {
  it('read every spelling boolin accepts, and no other', () => {
    for (const s of ['t', 'TRUE', 'ye', 'on', '1', ' y ']) expect(boolValue(s)).toBe(1);
    for (const s of ['f', 'false', 'n', 'off', 'of', '0']) expect(boolValue(s)).toBe(0);
    for (const s of ['o', 'truth', '2', '']) expect(() => boolValue(s), s).toThrow(RangeError);
  });

  it('read negative oids as unsigned', () => {
    expect(oidValue('-1')).toBe(4294967295);
    expect(() => oidValue('4294967296')).toThrow(RangeError);
  });

  it('group numeric digits by four around the point, without zero groups', () => {
    expect(numericKey('12345.67')).toEqual({ digits: [1, 2345, 6700], weight: 1 });
    expect(numericKey('0.00001')).toEqual({ digits: [1000], weight: -2 });
    expect(numericKey('1e8')).toEqual({ digits: [1], weight: 2 });
    expect(numericKey('-0.000')).toBe('zero');
    expect(numericKey('-Infinity')).toBe('special');
    // Equal values hash alike whatever their scale or spelling.
    expect(hashShard('numeric', '1.50', 7)).toBe(hashShard('numeric', '15e-1', 7));
  });
});

describe('key types', () => {
  it('refuse timestamptz, constrained numeric and timestamp(p), float', () => {
    expect(hashKeyTypeOf(1184, -1)).toBeNull();
    expect(hashKeyTypeOf(1700, (10 << 16) + 2 + 4)).toBeNull();
    expect(hashKeyTypeOf(1114, 0)).toBeNull();
    expect(hashKeyTypeOf(701, -1)).toBeNull();
    expect(hashKeyTypeOf(1082, -1)).toBe('date');
  });

  it('decode binary dates, timestamps and numerics as literals', () => {
    const int4 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    expect(boundValueText(int4(-1), 0, 4, 1, 1082)).toBe('1999-12-31');
    expect(boundValueText(int4(-730485), 0, 4, 1, 1082)).toBe('0001-01-01 BC');
    const ts = Buffer.alloc(8);
    ts.writeBigInt64BE(-1n);
    expect(boundValueText(ts, 0, 8, 1, 1114)).toBe('1999-12-31 23:59:59.999999');
    // numeric_send of -12345.670: 3 digits, weight 1, negative, dscale 3.
    const num = Buffer.from([0, 3, 0, 1, 0x40, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x2c]);
    expect(boundValueText(num, 0, num.length, 1, 1700)).toBe('-12345.670');
  });
});
