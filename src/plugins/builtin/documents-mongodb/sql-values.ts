// Turns SQL literals and bound parameters (PostgreSQL text form) into BSON values of a column's type.
import { Decimal128, Double, Int32, Long, ObjectId } from 'mongodb';
import { parseTimestamptz } from '../../pg-input.js';
import { invalidInput, pluginError, unsupported } from './errors.js';
import type { PgType } from './pg-types.js';

export { parseTimestamptz };

export interface ValueOptions {
  /** False on servers without Decimal128 (FerretDB v1): numeric values are stored as doubles there. */
  readonly decimal128: boolean;
}

const integerPattern = /^[+-]?\d+$/;
const numberPattern = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseInteger(text: string, type: 'int4' | 'int8'): Int32 | Long | number {
  const trimmed = text.trim();
  if (!integerPattern.test(trimmed)) throw invalidInput(type === 'int4' ? 'integer' : 'bigint', text);
  const big = BigInt(trimmed);
  if (type === 'int4') {
    if (big < -(2n ** 31n) || big >= 2n ** 31n)
      throw pluginError('numericValueOutOfRange', 'integer out of range');
    return new Int32(Number(big));
  }
  if (big < -(2n ** 63n) || big >= 2n ** 63n)
    throw pluginError('numericValueOutOfRange', 'bigint out of range');
  return Long.fromBigInt(big);
}

function parseNumber(text: string, type: 'float8' | 'numeric'): number {
  const trimmed = text.trim();
  if (/^[+-]?(infinity|inf)$/i.test(trimmed)) return trimmed.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(trimmed)) return NaN;
  if (!numberPattern.test(trimmed))
    throw invalidInput(type === 'float8' ? 'double precision' : 'numeric', text);
  return Number(trimmed);
}

/** JSON text as a BSON value; object keys starting with `$` are refused so data never reads as an operator. */
export function parseJsonDocument(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidInput('json', text);
  }
  return fromJson(parsed);
}

function fromJson(value: unknown): unknown {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && Math.abs(value) < 2 ** 31) return new Int32(value);
    if (Number.isSafeInteger(value)) return Long.fromNumber(value);
    return new Double(value);
  }
  if (Array.isArray(value)) return value.map(fromJson);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (key.startsWith('$') || key.includes('\0'))
        throw pluginError(
          'invalidParameterValue',
          `documents plugin: field name "${key}" may not start with $`,
        );
      out[key] = fromJson(inner);
    }
    return out;
  }
  return value;
}

/** The `_id` value a text form stands for: an ObjectId when it is 24 hex digits, the string otherwise. */
export function idFromText(text: string): ObjectId | string {
  return /^[0-9a-f]{24}$/i.test(text) ? new ObjectId(text) : text;
}

/** A value for storing in (or comparing with) a field of `type`. */
export function valueFromText(text: string, type: PgType, options: ValueOptions): unknown {
  switch (type) {
    case 'text':
      return text;
    case 'int4':
    case 'int8':
      return parseInteger(text, type);
    case 'float8':
      return new Double(parseNumber(text, type));
    case 'numeric': {
      const n = parseNumber(text, type);
      if (options.decimal128 && Number.isFinite(n)) return Decimal128.fromString(text.trim());
      return new Double(n);
    }
    case 'bool': {
      const trimmed = text.trim().toLowerCase();
      if (['t', 'true', 'y', 'yes', 'on', '1'].includes(trimmed)) return true;
      if (['f', 'false', 'n', 'no', 'off', '0'].includes(trimmed)) return false;
      throw invalidInput('boolean', text);
    }
    case 'timestamptz':
      return parseTimestamptz(text);
    case 'jsonb':
      return parseJsonDocument(text);
  }
}

/** A value to compare a field with: scalars only, so a filter never carries a document a server could interpret. */
export function comparableFromText(text: string, type: PgType, options: ValueOptions): unknown {
  const value = valueFromText(text, type, options);
  if (
    type === 'jsonb' &&
    value !== null &&
    typeof value === 'object' &&
    !(value instanceof Int32 || value instanceof Long || value instanceof Double)
  )
    throw unsupported('comparing with a JSON object or array', "compare scalar fields, e.g. doc->>'a' = 'x'");
  return value;
}
