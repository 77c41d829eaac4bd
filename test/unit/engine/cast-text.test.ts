// Casts the proxy applies to merged values, against what PostgreSQL's casts give for the same inputs.
import { describe, expect, it } from 'vitest';
import { castTarget, castText } from '../../../src/engine/values/cast-text.js';
import { Oid } from '../../../src/protocol/type-oids.js';

const to = (name: string, ...mods: number[]) => castTarget(name, mods)!;

describe('castText', () => {
  it('rounds numeric half away from zero and float half to even into integers', () => {
    expect(castText('2.5', Oid.numeric, to('int4'))).toBe('3');
    expect(castText('-2.5', Oid.numeric, to('int4'))).toBe('-3');
    expect(castText('2.4999', Oid.numeric, to('int8'))).toBe('2');
    expect(castText('2.5', Oid.float8, to('int4'))).toBe('2');
    expect(castText('3.5', Oid.float8, to('int4'))).toBe('4');
    expect(castText('-0.5', Oid.float8, to('int2'))).toBe('0');
  });

  it('refuses values outside the target range with 22003', () => {
    expect(() => castText('40000', Oid.int8, to('int2'))).toThrow(/smallint out of range/);
    expect(() => castText('2147483648', Oid.int8, to('int'))).toThrow(/integer out of range/);
    expect(() => castText('123.45', Oid.numeric, to('numeric', 4, 2))).toThrow(/numeric field overflow/);
    expect(() => castText('Infinity', Oid.float8, to('int8'))).toThrow(/bigint out of range/);
  });

  it('rounds to a numeric scale and pads to it', () => {
    expect(castText('2.8333333333333333', Oid.numeric, to('numeric', 10, 2))).toBe('2.83');
    expect(castText('-0.005', Oid.numeric, to('numeric', 5, 2))).toBe('-0.01');
    expect(castText('7', Oid.int8, to('numeric', 5, 2))).toBe('7.00');
    expect(castText('0.004', Oid.numeric, to('numeric', 3, 2))).toBe('0.00');
    expect(castText('12.5', Oid.numeric, to('decimal'))).toBe('12.5');
  });

  it('writes text as the type prints, and cuts varchar(n)', () => {
    expect(castText('t', Oid.bool, to('text'))).toBe('true');
    expect(castText('zoë16', Oid.text, to('varchar', 3))).toBe('zoë');
    expect(castText('1e-05', Oid.float8, to('float8'))).toBe('1e-05');
    expect(castText('12345678901234567890', Oid.numeric, to('float8'))).toBe('1.2345678901234567e+19');
  });

  it('knows which casts it cannot reproduce', () => {
    expect(castTarget('float4', [])).toBeNull();
    expect(castTarget('int4', [3])).toBeNull();
    expect(() => castText('1.5', Oid.float8, to('numeric'))).toThrow(/not supported across shards/);
  });
});
