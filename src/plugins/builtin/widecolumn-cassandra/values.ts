// Values both ways: PostgreSQL text (literals and bound parameters) to driver values of a CQL type, and driver values to PostgreSQL text.
import cassandra from 'cassandra-driver';
import { float8Text, plainDecimal } from '../../../protocol/float-text.js';
import { parseTimestamptz } from '../../pg-input.js';
import { cqlTypeText, pgTypeOf, type CqlType } from './cql-types.js';
import { invalidInput, outOfRange } from './errors.js';

const { types } = cassandra;

const integerPattern = /^[+-]?\d+$/;
const numberPattern = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const uuidPattern = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const intRanges: Record<string, [bigint, bigint]> = {
  tinyint: [-128n, 127n],
  smallint: [-32768n, 32767n],
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  bigint: [-(2n ** 63n), 2n ** 63n - 1n],
  counter: [-(2n ** 63n), 2n ** 63n - 1n],
};

function parseInteger(text: string, type: CqlType): bigint {
  const trimmed = text.trim();
  if (!integerPattern.test(trimmed)) throw invalidInput(pgTypeOf(type), text);
  const value = BigInt(trimmed);
  const range = intRanges[type.name];
  if (range && (value < range[0] || value > range[1])) throw outOfRange(pgTypeOf(type));
  return value;
}

function parseFloat(text: string, type: CqlType): number {
  const trimmed = text.trim();
  if (/^[+-]?infinity$/i.test(trimmed)) return trimmed.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(trimmed)) return NaN;
  if (!numberPattern.test(trimmed))
    throw invalidInput(type.name === 'float' ? 'real' : 'double precision', text);
  return Number(trimmed);
}

function parseBool(text: string): boolean {
  const word = text.trim().toLowerCase();
  if (word && ('true'.startsWith(word) || 'yes'.startsWith(word) || word === 'on' || word === '1'))
    return true;
  if (word && ('false'.startsWith(word) || 'no'.startsWith(word) || word === 'off' || word === '0'))
    return false;
  throw invalidInput('boolean', text);
}

function parseBytea(text: string): Buffer {
  if (!/^\\x([0-9a-f]{2})*$/i.test(text)) throw invalidInput('bytea', text);
  return Buffer.from(text.slice(2), 'hex');
}

function parsing<T>(pgType: string, text: string, parse: () => T): T {
  try {
    return parse();
  } catch {
    throw invalidInput(pgType, text);
  }
}

/** A value of PostgreSQL text form as the driver encodes it for a column of this CQL type. */
export function toDriver(text: string | null, type: CqlType): unknown {
  if (text === null) return null;
  switch (type.name) {
    case 'ascii':
    case 'text':
    case 'varchar':
      return text;
    case 'tinyint':
    case 'smallint':
    case 'int':
      return Number(parseInteger(text, type));
    case 'bigint':
    case 'counter':
      return types.Long.fromString(parseInteger(text, type).toString());
    case 'varint':
      return types.Integer.fromString(parseInteger(text, type).toString());
    case 'decimal':
      if (!numberPattern.test(text.trim())) throw invalidInput('numeric', text);
      return types.BigDecimal.fromString(text.trim());
    case 'float':
    case 'double':
      return parseFloat(text, type);
    case 'boolean':
      return parseBool(text);
    case 'uuid':
    case 'timeuuid': {
      const hex = text.trim().replace(/-/g, '');
      if (!uuidPattern.test(text.trim())) throw invalidInput('uuid', text);
      const canonical = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      return type.name === 'uuid'
        ? types.Uuid.fromString(canonical)
        : parsing('uuid', text, () => types.TimeUuid.fromString(canonical));
    }
    case 'timestamp':
      return parseTimestamptz(text);
    case 'date':
      return parsing('date', text, () => types.LocalDate.fromString(text.trim()));
    case 'time':
      return parsing('time without time zone', text, () => types.LocalTime.fromString(text.trim()));
    case 'blob':
      return parseBytea(text);
    case 'inet':
      return parsing('inet', text, () => types.InetAddress.fromString(text.trim()));
    default:
      return fromJson(
        parsing('json', text, () => JSON.parse(text) as unknown),
        type,
      );
  }
}

/** A JSON value (from jsonb text) as the driver value of a collection, tuple or scalar type. */
function fromJson(value: unknown, type: CqlType): unknown {
  if (value === null) return null;
  const [first, second] = type.args;
  const elements = () => {
    if (!Array.isArray(value)) throw invalidInput(cqlTypeText(type), JSON.stringify(value));
    return value as unknown[];
  };
  switch (type.name) {
    case 'list':
    case 'set':
      return elements().map((item) => fromJson(item, first));
    case 'vector':
      return elements().map((item) => fromJson(item, first));
    case 'tuple':
      return types.Tuple.fromArray(elements().map((item, i) => fromJson(item, type.args[i])));
    case 'map': {
      if (!value || typeof value !== 'object' || Array.isArray(value))
        throw invalidInput(cqlTypeText(type), JSON.stringify(value));
      return new Map(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [
          toDriver(k, first),
          fromJson(v, second),
        ]),
      );
    }
    default:
      if (pgTypeOf(type) === 'jsonb') return value;
      return toDriver(typeof value === 'string' ? value : JSON.stringify(value), type);
  }
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** timestamptz in the ISO DateStyle with TimeZone UTC: `2024-01-02 03:04:05.678+00`. */
export function timestampText(date: Date): string {
  const year = date.getUTCFullYear();
  const millis = date.getUTCMilliseconds();
  const fraction = millis ? `.${pad(millis, 3).replace(/0+$/, '')}` : '';
  const text =
    `${pad(year > 0 ? year : 1 - year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${fraction}+00`;
  return year > 0 ? text : `${text} BC`;
}

/** time: microseconds (PostgreSQL's precision, rounded), trailing zeros dropped. */
function timeText(value: InstanceType<typeof types.LocalTime>): string {
  const micros = Math.round(value.nanosecond / 1000);
  const fraction = micros ? `.${pad(micros, 6).replace(/0+$/, '')}` : '';
  return `${pad(value.hour)}:${pad(value.minute)}:${pad(value.second)}${fraction}`;
}

/** real: the shortest digits that read back as the same 32-bit float, in PostgreSQL's layout. */
export function float4Text(value: number): string {
  if (!Number.isFinite(value) || value === 0) return float8Text(value);
  let digits = value.toExponential();
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = value.toExponential(precision - 1);
    if (Math.fround(Number(candidate)) === value) {
      digits = candidate;
      break;
    }
  }
  const [mantissa, exponentText] = digits.split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${pad(Math.abs(exponent))}`;
  }
  return plainDecimal(mantissa, exponent);
}

/** Decimal text without an exponent, as numeric prints it. */
function numericText(text: string): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?[eE]([+-]?\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, whole, fraction = '', exponent] = match;
  return plainDecimal(`${sign}${whole || '0'}.${fraction || '0'}`, Number(exponent));
}

/** A driver value of a CQL type in PostgreSQL's text form for the column's PostgreSQL type. */
export function toText(value: unknown, type: CqlType): string | null {
  if (value === null || value === undefined) return null;
  switch (pgTypeOf(type)) {
    case 'text':
    case 'int2':
    case 'int4':
    case 'int8':
    case 'uuid':
    case 'date':
    case 'inet':
      return String(value);
    case 'numeric':
      return numericText(String(value));
    case 'float4':
      return float4Text(value as number);
    case 'float8':
      return float8Text(value as number);
    case 'bool':
      return value ? 't' : 'f';
    case 'timestamptz':
      return timestampText(value as Date);
    case 'time':
      return timeText(value as InstanceType<typeof types.LocalTime>);
    case 'bytea':
      return `\\x${(value as Buffer).toString('hex')}`;
    case 'jsonb':
      return jsonbText(toJson(value, type));
  }
}

/** A driver value as a plain JSON value, numbers kept as their exact digits (a string tagged by JsonNumber). */
class JsonNumber {
  constructor(readonly digits: string) {}
}

function toJson(value: unknown, type: CqlType): unknown {
  if (value === null || value === undefined) return null;
  const [first, second] = type.args;
  switch (type.name) {
    case 'list':
    case 'set':
    case 'vector':
      return (value as unknown[]).map((item) => toJson(item, first));
    case 'tuple':
      return (value as InstanceType<typeof types.Tuple>).elements.map((item, i) =>
        toJson(item, type.args[i]),
      );
    case 'map': {
      const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
      return Object.fromEntries(entries.map(([k, v]) => [toText(k, first) ?? '', toJson(v, second)]));
    }
  }
  switch (pgTypeOf(type)) {
    case 'int2':
    case 'int4':
    case 'int8':
    case 'numeric':
      return new JsonNumber(toText(value, type)!);
    case 'float4':
    case 'float8': {
      const n = value as number;
      if (!Number.isFinite(n)) return String(n);
      const [mantissa, exponent] = n.toExponential().split('e');
      return new JsonNumber(plainDecimal(mantissa, Number(exponent)));
    }
    case 'bool':
      return value;
    case 'timestamptz':
      return (value as Date).toISOString().replace('Z', '+00:00');
    case 'jsonb':
      // A user-defined type: the driver gives an object of its fields.
      return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, jsonScalar(v)]));
    default:
      return toText(value, type);
  }
}

/** A field of a user-defined type, whose types the catalog does not read: taken from the driver value's own kind. */
function jsonScalar(value: unknown): unknown {
  if (value === null || value === undefined || typeof value === 'boolean' || typeof value === 'string')
    return value ?? null;
  if (typeof value === 'number') return new JsonNumber(float8Text(value));
  if (value instanceof types.Long || value instanceof types.Integer || value instanceof types.BigDecimal)
    return new JsonNumber(numericText(value.toString()));
  if (value instanceof Date) return value.toISOString().replace('Z', '+00:00');
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (value instanceof types.Tuple) return value.elements.map(jsonScalar);
  if (Array.isArray(value) || value instanceof Set) return [...value].map(jsonScalar);
  if (value instanceof Map)
    return Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), jsonScalar(v)]));
  if (Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, jsonScalar(v)]));
  return String(value);
}

/** jsonb orders object keys by length, then bytewise, and prints `{"a": 1, "b": [1, 2]}`. */
function compareKeys(a: string, b: string): number {
  const la = Buffer.byteLength(a);
  const lb = Buffer.byteLength(b);
  return la !== lb ? la - lb : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function jsonbText(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof JsonNumber) return value.digits;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => compareKeys(a, b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${jsonbText(v)}`).join(', ')}}`;
}
