// WAL positions: parsed from and written as PostgreSQL's `X/Y` text, compared as numbers.
import { describe, expect, it } from 'vitest';
import { formatLsn, parseLsn } from '../../../src/streams/lsn.js';

describe('lsn', () => {
  it('reads both halves as hex and writes them back as PostgreSQL does', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n);
    expect(formatLsn(0x16b374d848n)).toBe('16/B374D848');
    expect(formatLsn(0n)).toBe('0/0');
    expect(formatLsn(parseLsn('FFFFFFFF/FFFFFFFF'))).toBe('FFFFFFFF/FFFFFFFF');
  });

  it('orders positions across the 32-bit boundary', () => {
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(parseLsn('1/0') - 1n).toBe(parseLsn('0/FFFFFFFF'));
  });

  it('refuses what is not an LSN', () => {
    for (const text of ['', '12', '0/', 'x/1', '1/2/3', '123456789/0'])
      expect(() => parseLsn(text)).toThrow();
  });
});
