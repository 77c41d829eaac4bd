// Bound parameters as text, for finding shard keys in them.
import { binaryToText } from '../../protocol/binary-values.js';
import type { ParamValues } from '../../router/sharding/ast-values.js';
import type { BoundParams } from './wire.js';

/** An integer of unspecified type is read by its width, as drivers send int2/int4/int8 in binary. */
const integerByWidth: Record<number, number> = { 2: 21, 4: 23, 8: 20 };

/** Bound values as text for routing: text-format values as they are, binary ones of the common types decoded. */
export function paramText(bound: BoundParams): ParamValues {
  return (n) => {
    const v = bound.values[n - 1];
    if (v === undefined) return undefined;
    if (v === null) return null;
    const format = bound.formats.length === 1 ? bound.formats[0] : (bound.formats[n - 1] ?? 0);
    if (format === 0) return v.toString('utf8');
    const type = bound.types[n - 1] || integerByWidth[v.length];
    try {
      return type ? binaryToText(v, type) : undefined;
    } catch {
      // A value shorter than its type: no key to route by; PostgreSQL will refuse it.
      return undefined;
    }
  };
}
