// Durations: units, compound text and plain milliseconds normalize to whole milliseconds.
import { describe, it, expect } from 'vitest';
import { parseDuration } from '../../../src/config/duration.js';

describe('parseDuration', () => {
  it.each([
    [250, 250],
    ['250ms', 250],
    ['5s', 5_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    ['0', 0],
    ['500', 500],
  ])('%j is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', '5 s', '-1s', 's', 'ms', '5x', '1.5', '1h 30m'])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(/expected a duration/);
  });

  it('rejects negative and non-finite numbers', () => {
    expect(() => parseDuration(-1)).toThrow(/expected a duration/);
    expect(() => parseDuration(Number.NaN)).toThrow(/expected a duration/);
  });
});
