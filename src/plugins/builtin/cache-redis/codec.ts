// A cached entry as bytes: the counters it was read under, then the reply PostgreSQL sent, length-prefixed.
import type { EncodedResult } from '../../api.js';

/**
 * Layout, big-endian:
 *   u8 format (1)
 *   u16 counter count, then per counter: u8 length + ASCII digits (generation first, then table versions)
 *   u32 row count
 *   u16 command length + UTF-8 command tag
 *   i32 RowDescription length (-1: none) + its bytes
 *   the DataRow messages, to the end
 */
const format = 1;

export interface CacheEntry {
  /** The database generation and table versions read before the query ran, as Redis holds them. */
  readonly counters: readonly string[];
  readonly result: EncodedResult;
}

export function encodeEntry(entry: CacheEntry): Buffer {
  const { counters, result } = entry;
  if (counters.some((c) => c.length > 255))
    throw new RangeError('a cache counter is longer than 255 characters');
  if (result.rowCount > 0xffffffff) throw new RangeError('too many rows for a cache entry');
  const command = Buffer.from(result.command, 'utf8');
  const countersLength = counters.reduce((sum, c) => sum + 1 + Buffer.byteLength(c, 'latin1'), 0);
  const description = result.rowDescription;
  const headerLength = 1 + 2 + countersLength + 4 + 2 + command.length + 4 + (description?.length ?? 0);
  const out = Buffer.allocUnsafe(headerLength + result.dataRows.length);
  let at = out.writeUInt8(format, 0);
  at = out.writeUInt16BE(counters.length, at);
  for (const counter of counters) {
    at = out.writeUInt8(counter.length, at);
    at += out.write(counter, at, 'latin1');
  }
  at = out.writeUInt32BE(result.rowCount, at);
  at = out.writeUInt16BE(command.length, at);
  at += command.copy(out, at);
  at = out.writeInt32BE(description ? description.length : -1, at);
  if (description) at += description.copy(out, at);
  result.dataRows.copy(out, at);
  return out;
}

/** The entry, or undefined when the bytes are not one this version wrote (then it counts as a miss). */
export function decodeEntry(bytes: Buffer): CacheEntry | undefined {
  try {
    let at = 0;
    if (bytes.readUInt8(at++) !== format) return undefined;
    const count = bytes.readUInt16BE(at);
    at += 2;
    const counters: string[] = [];
    for (let i = 0; i < count; i++) {
      const length = bytes.readUInt8(at++);
      if (at + length > bytes.length) return undefined;
      counters.push(bytes.toString('latin1', at, at + length));
      at += length;
    }
    const rowCount = bytes.readUInt32BE(at);
    const commandLength = bytes.readUInt16BE(at + 4);
    at += 6;
    if (at + commandLength > bytes.length) return undefined;
    const command = bytes.toString('utf8', at, at + commandLength);
    at += commandLength;
    const descriptionLength = bytes.readInt32BE(at);
    at += 4;
    if (descriptionLength > bytes.length - at) return undefined;
    const rowDescription = descriptionLength < 0 ? null : bytes.subarray(at, at + descriptionLength);
    at += Math.max(descriptionLength, 0);
    return { counters, result: { rowDescription, dataRows: bytes.subarray(at), rowCount, command } };
  } catch {
    // A read past the end: a truncated or foreign value.
    return undefined;
  }
}
