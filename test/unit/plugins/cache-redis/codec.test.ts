// Entries survive the trip to Redis and back byte for byte; foreign or truncated bytes are no entry.
import { describe, expect, it } from 'vitest';
import {
  decodeEntry,
  encodeEntry,
  type CacheEntry,
} from '../../../../src/plugins/builtin/cache-redis/codec.js';

const dataRow = (...values: string[]) => {
  const cells = values.map((v) => {
    const bytes = Buffer.from(v);
    const length = Buffer.alloc(4);
    length.writeInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  });
  const body = Buffer.concat([Buffer.alloc(2), ...cells]);
  body.writeUInt16BE(values.length);
  const header = Buffer.alloc(5);
  header.write('D');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
};

const entries: [string, CacheEntry][] = [
  [
    'rows with a description',
    {
      counters: ['123456789012', '1', '77'],
      result: {
        rowDescription: Buffer.from('T\u0000\u0000\u0000\u0006\u0000\u0000', 'latin1'),
        dataRows: Buffer.concat([dataRow('1', 'ä'), dataRow('2', '')]),
        rowCount: 2,
        command: 'SELECT 2',
      },
    },
  ],
  [
    'no rows, no description',
    {
      counters: ['5'],
      result: { rowDescription: null, dataRows: Buffer.alloc(0), rowCount: 0, command: 'SELECT 0' },
    },
  ],
  [
    'an empty description',
    {
      counters: [],
      result: { rowDescription: Buffer.alloc(0), dataRows: Buffer.alloc(0), rowCount: 0, command: 'Ünïcode' },
    },
  ],
];

describe('entry codec', () => {
  it.each(entries)('round-trips %s', (_, entry) => {
    const bytes = encodeEntry(entry);
    const decoded = decodeEntry(bytes)!;
    expect(decoded.counters).toEqual(entry.counters);
    expect(decoded.result.rowCount).toBe(entry.result.rowCount);
    expect(decoded.result.command).toBe(entry.result.command);
    expect(decoded.result.rowDescription?.equals(entry.result.rowDescription!) ?? null).toEqual(
      entry.result.rowDescription ? true : null,
    );
    expect(decoded.result.dataRows.equals(entry.result.dataRows)).toBe(true);
  });

  it('adds only a small header to the reply bytes', () => {
    const [, entry] = entries[0];
    const payload = entry.result.rowDescription!.length + entry.result.dataRows.length;
    expect(encodeEntry(entry).length - payload).toBeLessThan(50);
  });

  it('rejects other formats and truncated bytes', () => {
    const bytes = encodeEntry(entries[0][1]);
    expect(decodeEntry(Buffer.from('{"json":true}'))).toBeUndefined();
    expect(decodeEntry(Buffer.alloc(0))).toBeUndefined();
    for (const cut of [1, 3, 8, 20, 30]) expect(decodeEntry(bytes.subarray(0, cut))).toBeUndefined();
  });
});
