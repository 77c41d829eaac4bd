// Renders BSON values in PostgreSQL's text form for a result column's type (float8, timestamptz, jsonb, ...).
import { Binary, Decimal128, ObjectId } from 'mongodb';
import { bsonKind, toBigInt, toNumber } from './bson-kinds.js';
import type { PgType } from './pg-types.js';
import { float8Text, plainDecimal } from '../../../protocol/float-text.js';

/** A Decimal128 (or any decimal string with an optional exponent) as PostgreSQL numeric text. */
export function formatNumericText(text: string): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!match) return text;
  const [, sign, whole = '', fraction = '', exponentText] = match;
  const exponent = Number(exponentText ?? 0);
  const digits = whole + fraction;
  const scale = fraction.length - exponent;
  let intDigits: string;
  let fracDigits: string;
  if (scale <= 0) {
    intDigits = digits + '0'.repeat(-scale);
    fracDigits = '';
  } else if (scale >= digits.length) {
    intDigits = '0';
    fracDigits = '0'.repeat(scale - digits.length) + digits;
  } else {
    intDigits = digits.slice(0, digits.length - scale);
    fracDigits = digits.slice(digits.length - scale);
  }
  intDigits = intDigits.replace(/^0+(?=\d)/, '');
  const body = fracDigits ? `${intDigits}.${fracDigits}` : intDigits;
  const isZero = /^[0.]*$/.test(body);
  return sign === '-' && !isZero ? `-${body}` : body;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** timestamptz in the ISO DateStyle with TimeZone UTC: `2024-01-02 03:04:05.678+00`. */
export function formatTimestamptz(date: Date): string {
  const year = date.getUTCFullYear();
  const yearText = year > 0 ? pad(year, 4) : `${pad(1 - year, 4)}`;
  const millis = date.getUTCMilliseconds();
  const fraction = millis ? `.${pad(millis, 3).replace(/0+$/, '')}` : '';
  const text =
    `${yearText}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${fraction}+00`;
  return year > 0 ? text : `${text} BC`;
}

/** A number as jsonb prints it: plain decimal digits, never an exponent. */
function jsonNumber(value: unknown): string {
  const kind = bsonKind(value);
  if (kind === 'decimal') return formatNumericText((value as Decimal128).toString());
  if (kind === 'int64' || kind === 'int32') return String(toBigInt(value));
  const n = toNumber(value);
  if (!Number.isFinite(n)) return JSON.stringify(String(n));
  const [mantissa, exponent] = n.toExponential().split('e');
  return plainDecimal(mantissa, Number(exponent));
}

/** jsonb orders object keys by length, then bytewise, and prints `{"a": 1, "b": [1, 2]}`. */
function compareJsonbKeys(a: string, b: string): number {
  const la = Buffer.byteLength(a);
  const lb = Buffer.byteLength(b);
  if (la !== lb) return la - lb;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** A BSON value as PostgreSQL's jsonb text; ObjectIds become hex strings and dates ISO strings. */
export function formatJsonb(value: unknown): string {
  switch (bsonKind(value)) {
    case 'null':
      return 'null';
    case 'string':
      return JSON.stringify(value);
    case 'bool':
      return value ? 'true' : 'false';
    case 'int32':
    case 'int64':
    case 'double':
    case 'decimal':
      return jsonNumber(value);
    case 'date':
      return JSON.stringify((value as Date).toISOString().replace('Z', '+00:00'));
    case 'objectId':
      return JSON.stringify((value as ObjectId).toHexString());
    case 'array':
      return `[${(value as unknown[]).map(formatJsonb).join(', ')}]`;
    case 'object': {
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => compareJsonbKeys(a, b));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${formatJsonb(v)}`).join(', ')}}`;
    }
    default:
      return JSON.stringify(otherText(value));
  }
}

function otherText(value: unknown): string {
  if (value instanceof Binary) return `\\x${Buffer.from(value.buffer).toString('hex')}`;
  return String(value);
}

/** A value as text the way `::text` would show it: strings as themselves, scalars in their own text form. */
function asText(value: unknown): string {
  switch (bsonKind(value)) {
    case 'string':
      return value as string;
    case 'bool':
      return value ? 'true' : 'false';
    case 'objectId':
      return (value as ObjectId).toHexString();
    case 'date':
      return formatTimestamptz(value as Date);
    case 'double':
      return float8Text(toNumber(value));
    case 'int32':
    case 'int64':
    case 'decimal':
      return jsonNumber(value);
    case 'array':
    case 'object':
      return formatJsonb(value);
    default:
      return otherText(value);
  }
}

const isNumberKind = (value: unknown) => ['int32', 'int64', 'double', 'decimal'].includes(bsonKind(value));

/** Text for a result column of `type`; values of another BSON type are converted as a cast would. */
export function formatValue(value: unknown, type: PgType): string | null {
  if (bsonKind(value) === 'null') return null;
  switch (type) {
    case 'text':
      return asText(value);
    case 'jsonb':
      return formatJsonb(value);
    case 'bool':
      if (typeof value === 'boolean') return value ? 't' : 'f';
      return /^(t|true|y|yes|on|1)$/i.test(asText(value).trim()) ? 't' : 'f';
    case 'int4':
    case 'int8': {
      if (!isNumberKind(value)) return asText(value);
      const exact = toBigInt(value);
      return exact !== undefined ? String(exact) : String(Math.round(toNumber(value)));
    }
    case 'float8':
      return isNumberKind(value) ? float8Text(toNumber(value)) : asText(value);
    case 'numeric':
      return isNumberKind(value) ? jsonNumber(value) : asText(value);
    case 'timestamptz':
      return value instanceof Date ? formatTimestamptz(value) : asText(value);
  }
}
