// Value rules the proxy must share with PostgreSQL: numeric division scale, float text, sort order.
import { describe, expect, it } from 'vitest';
import {
  divideNumeric,
  formatNumeric,
  parseNumeric,
  addNumeric,
} from '../../../src/engine/values/numeric.js';
import { float8Text } from '../../../src/protocol/float-text.js';
import { comparerFor, rowComparer } from '../../../src/engine/values/compare.js';
import { Oid } from '../../../src/engine/values/type-oids.js';

const avg = (sum: string, count: number) =>
  formatNumeric(divideNumeric(parseNumeric(sum), { coef: BigInt(count), scale: 0 }));

describe('numeric', () => {
  it('divides at PostgreSQL select_div_scale (avg results)', () => {
    // Values as PostgreSQL 15 prints avg() of these inputs.
    expect(avg('3', 2)).toBe('1.5000000000000000');
    expect(avg('2', 2)).toBe('1.00000000000000000000');
    expect(avg('10', 3)).toBe('3.3333333333333333');
    expect(avg('100000', 3)).toBe('33333.333333333333');
    expect(avg('1.25', 2)).toBe('0.62500000000000000000');
    expect(avg('-7', 2)).toBe('-3.5000000000000000');
    expect(avg('0', 5)).toBe('0.00000000000000000000');
  });

  it('adds at the larger scale and parses exponents', () => {
    expect(formatNumeric(addNumeric(parseNumeric('1.5'), parseNumeric('2.25')))).toBe('3.75');
    expect(formatNumeric(parseNumeric('1.5e3'))).toBe('1500');
    expect(formatNumeric(parseNumeric('-0.05'))).toBe('-0.05');
  });
});

describe('float text', () => {
  it('prints like float8out', () => {
    expect(float8Text(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(float8Text(1e20)).toBe('1e+20');
    expect(float8Text(1.5e-7)).toBe('1.5e-07');
    expect(float8Text(123456789012345)).toBe('123456789012345');
    expect(float8Text(NaN)).toBe('NaN');
  });
});

describe('sort order', () => {
  const b = (s: string) => Buffer.from(s);
  it('orders numbers by value, text by bytes, NaN last', () => {
    expect(comparerFor(Oid.int4)(b('10'), b('9'))).toBe(1);
    expect(comparerFor(Oid.numeric)(b('10.0'), b('9.99'))).toBe(1);
    expect(comparerFor(Oid.numeric)(b('NaN'), b('1e9'))).toBe(1);
    expect(comparerFor(Oid.float8)(b('-Infinity'), b('-1'))).toBe(-1);
    expect(comparerFor(Oid.text)(b('B'), b('a'))).toBe(-1);
    expect(comparerFor(Oid.timestamptz)(b('2024-01-01 00:30:00+01'), b('2023-12-31 23:45:00+00'))).toBe(-1);
  });

  it('puts NULLs last ascending and first descending unless told otherwise', () => {
    const rows = [[b('2')], [null], [b('1')]];
    const asc = rowComparer([{ index: 0, desc: false, nullsFirst: false }], [Oid.int4]);
    const desc = rowComparer([{ index: 0, desc: true, nullsFirst: true }], [Oid.int4]);
    const text = (r: (Buffer | null)[][]) => r.map((x) => x[0]?.toString() ?? null);
    expect(text([...rows].sort(asc))).toEqual(['1', '2', null]);
    expect(text([...rows].sort(desc))).toEqual([null, '2', '1']);
  });
});
