// Tells BSON values apart as the driver returns them with promoteValues off (Int32, Double, Long, Decimal128, ...).
import { Decimal128, Double, Int32, Long, ObjectId } from 'mongodb';

export type BsonKind =
  | 'null'
  | 'string'
  | 'int32'
  | 'int64'
  | 'double'
  | 'decimal'
  | 'bool'
  | 'date'
  | 'objectId'
  | 'array'
  | 'object'
  | 'other';

export function bsonKind(value: unknown): BsonKind {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  // Plain numbers appear in documents the plugin built itself.
  if (typeof value === 'number')
    return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? 'int32' : 'double';
  if (typeof value === 'bigint') return 'int64';
  if (value instanceof Int32) return 'int32';
  if (value instanceof Long) return 'int64';
  if (value instanceof Double) return 'double';
  if (value instanceof Decimal128) return 'decimal';
  if (value instanceof Date) return 'date';
  if (value instanceof ObjectId) return 'objectId';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return 'object';
  return 'other';
}

/** A number-like BSON value as a JS number (Long and Decimal128 may lose precision; used for arithmetic on doubles). */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Int32 || value instanceof Double) return value.valueOf();
  if (value instanceof Long) return value.toNumber();
  if (value instanceof Decimal128) return Number(value.toString());
  return Number(value);
}

/** An integer-valued BSON value exactly, as a bigint; undefined when it is not an integer. */
export function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (value instanceof Long) return value.toBigInt();
  const n = toNumber(value);
  return Number.isInteger(n) ? BigInt(n) : undefined;
}

/** The value at a path of field names; numeric segments index arrays. Missing is undefined. */
export function valueAt(doc: unknown, path: readonly string[]): unknown {
  let current: unknown = doc;
  for (const key of path) {
    if (current === null || current === undefined) return undefined;
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(key)) return undefined;
      current = current[Number(key)];
    } else if (typeof current === 'object' && bsonKind(current) === 'object') {
      current = (current as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
  }
  return current;
}
