// PostgreSQL text forms the plugin produces and reads: float8, numeric, timestamptz, jsonb, avg's numeric division.
import { Decimal128, Double, Int32, Long, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { divideNumeric } from '../../../../src/plugins/builtin/documents-mongodb/numeric-division.js';
import { float8Text } from '../../../../src/protocol/float-text.js';
import {
  formatJsonb,
  formatNumericText,
  formatTimestamptz,
  formatValue,
} from '../../../../src/plugins/builtin/documents-mongodb/pg-text.js';
import { parseTimestamptz } from '../../../../src/plugins/builtin/documents-mongodb/sql-values.js';
import { inferredShape } from '../../../../src/plugins/builtin/documents-mongodb/table-shape.js';

describe('text forms', () => {
  it('prints float8 as PostgreSQL does (shortest digits, exponent outside 1e-4..1e15)', () => {
    expect([0.1 + 0.2, 1e15, 123456789012345, 1e-5, 0.0001, -2.5, 1 / 3].map(float8Text)).toEqual([
      '0.30000000000000004',
      '1e+15',
      '123456789012345',
      '1e-05',
      '0.0001',
      '-2.5',
      '0.3333333333333333',
    ]);
    expect([NaN, Infinity, -0].map(float8Text)).toEqual(['NaN', 'Infinity', '-0']);
  });

  it('prints Decimal128 as plain numeric text', () => {
    expect(formatNumericText(Decimal128.fromString('1.50E+3').toString())).toBe('1500');
    expect(formatNumericText('1.2E-7')).toBe('0.00000012');
    expect(formatNumericText('-0012.340')).toBe('-12.340');
  });

  it('prints timestamptz in UTC with trimmed fractions', () => {
    expect(formatTimestamptz(new Date('2024-01-02T03:04:05.678Z'))).toBe('2024-01-02 03:04:05.678+00');
    expect(formatTimestamptz(new Date('2024-01-02T03:04:05.500Z'))).toBe('2024-01-02 03:04:05.5+00');
    expect(parseTimestamptz('2024-01-02 03:04:05.678+00').toISOString()).toBe('2024-01-02T03:04:05.678Z');
    expect(parseTimestamptz('2024-01-02T05:04:05+02:00').toISOString()).toBe('2024-01-02T03:04:05.000Z');
  });

  it('prints jsonb with its key order and spacing', () => {
    const doc = {
      zeta: 1,
      b: [new Int32(1), new Double(2.5)],
      aa: { y: true, x: null },
      id: new ObjectId('65a000000000000000000001'),
    };
    expect(formatJsonb(doc)).toBe(
      '{"b": [1, 2.5], "aa": {"x": null, "y": true}, "id": "65a000000000000000000001", "zeta": 1}',
    );
  });

  it('renders each BSON type for its column type', () => {
    expect(formatValue(Long.fromString('9007199254740993'), 'int8')).toBe('9007199254740993');
    expect(formatValue(true, 'bool')).toBe('t');
    expect(formatValue('x', 'jsonb')).toBe('"x"');
    expect(formatValue(new ObjectId('65a000000000000000000001'), 'text')).toBe('65a000000000000000000001');
    expect(formatValue(undefined, 'text')).toBeNull();
  });

  it("divides like PostgreSQL's avg(): the same scale and rounding", () => {
    expect(divideNumeric('33', 7n)).toBe('4.7142857142857143');
    expect(divideNumeric('9', 2n)).toBe('4.5000000000000000');
    expect(divideNumeric('1000000000000', 1n)).toBe('1000000000000.00000000');
    expect(divideNumeric('-5', 3n)).toBe('-1.6666666666666667');
    expect(divideNumeric('0', 4n)).toBe('0.00000000000000000000');
  });
});

describe('inferred columns', () => {
  it('types each field by what the sample holds, widening numbers', () => {
    const shape = inferredShape('docs.t', 't', [
      { _id: 1, a: new Int32(1), b: new Int32(1), c: 'x', d: { e: 1 }, f: new Date(0) },
      { _id: 2, a: new Int32(2), b: new Double(1.5), c: null, g: true, $bad: 1 },
    ]);
    expect(shape.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      '_id:text',
      'a:int4',
      'b:float8',
      'c:text',
      'd:jsonb',
      'f:timestamptz',
      'g:bool',
      'doc:jsonb',
    ]);
  });
});
