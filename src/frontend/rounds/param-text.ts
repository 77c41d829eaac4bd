// Bound parameters as text, for finding shard keys in them.
import { binaryToText } from '../../protocol/binary-values.js';
import type { ParamValues } from '../../router/sharding/ast-values.js';
import type { BoundParams } from '../../backend/shard-wire.js';

/** An integer of unspecified type is read by its width, as drivers send int2/int4/int8 in binary. */
const integerByWidth: Record<number, number> = { 2: 21, 4: 23, 8: 20 };

/**
 * One bound value, `buf[start, end)`, as text for routing: a text-format value as it is, a binary one of the
 * common types decoded (an untyped integer by its width); undefined when it cannot be read.
 */
export function boundValueText(
  buf: Buffer,
  start: number,
  end: number,
  format: number,
  type: number,
): string | undefined {
  if (format === 0) return buf.toString('utf8', start, end);
  const oid = type || integerByWidth[end - start];
  if (format !== 1 || !oid) return undefined;
  try {
    return binaryToText(buf.subarray(start, end), oid);
  } catch {
    // A value shorter than its type: no key to route by; PostgreSQL will refuse it.
    return undefined;
  }
}

/** Bound values as text for routing. */
export function paramText(bound: BoundParams): ParamValues {
  return (n) => {
    const v = bound.values[n - 1];
    if (v === undefined) return undefined;
    if (v === null) return null;
    const format = bound.formats.length === 1 ? bound.formats[0] : (bound.formats[n - 1] ?? 0);
    return boundValueText(v, 0, v.length, format, bound.types[n - 1] ?? 0);
  };
}
