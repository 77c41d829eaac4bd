// The mysql plugin's own arithmetic: PostgreSQL's avg() scale from sum and count, and interval constants.
import { describe, expect, it } from 'vitest';
import { pgAverage } from '../../../../src/plugins/builtin/mysql/average.js';
import { parseInterval } from '../../../../src/plugins/builtin/mysql/temporal.js';

describe('pgAverage', () => {
  it('divides with numeric_div scale and rounds half away from zero', () => {
    // Values as PostgreSQL 15 prints avg() of the same inputs.
    expect(pgAverage('3', '2')).toBe('1.5000000000000000');
    expect(pgAverage('37', '9')).toBe('4.1111111111111111');
    expect(pgAverage('-2', '3')).toBe('-0.66666666666666666667');
    expect(pgAverage('12345678', '1')).toBe('12345678.000000000000');
    expect(pgAverage('30.59', '8')).toBe('3.8237500000000000');
    expect(pgAverage('0', '4')).toBe('0.00000000000000000000');
    expect(pgAverage(null, '0')).toBeNull();
  });
});

describe('parseInterval', () => {
  it('reads unit pairs, clock times and ago into months, days and microseconds', () => {
    expect(parseInterval('1 day')).toEqual({ months: 0, days: 1, micros: 0 });
    expect(parseInterval('1 year 2 mons 3 days 04:05:06.5')).toEqual({
      months: 14,
      days: 3,
      micros: (4 * 3600 + 5 * 60 + 6.5) * 1e6,
    });
    expect(parseInterval('3 weeks ago')).toEqual({ months: 0, days: -21, micros: 0 });
    expect(parseInterval('1.5 seconds')).toEqual({ months: 0, days: 0, micros: 1_500_000 });
  });

  it('leaves what it would read differently from PostgreSQL to a refusal', () => {
    expect(parseInterval('1.5 months')).toBeUndefined();
    expect(parseInterval('P1D')).toBeUndefined();
    expect(parseInterval('1 fortnight')).toBeUndefined();
  });
});
