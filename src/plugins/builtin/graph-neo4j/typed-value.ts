// Converts a Cypher value to the text form of the PostgreSQL type its column definition names.
import neo4j from 'neo4j-driver';
import type { DateTime, Integer } from 'neo4j-driver';
import { PluginError } from '../../api.js';
import { agtypeText, jsonbKeyOrder, renderValue } from './agtype.js';
import type { ColumnKind } from './column-types.js';
import { float8Text } from '../../../protocol/float-text.js';
import { pluginError } from './errors.js';

const integerRanges = {
  int2: [-32768n, 32767n],
  int4: [-2147483648n, 2147483647n],
  int8: [-(2n ** 63n), 2n ** 63n - 1n],
} as const;

const typeNames: Record<ColumnKind, string> = {
  agtype: 'agtype',
  text: 'text',
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  numeric: 'numeric',
  bool: 'boolean',
  json: 'json',
  date: 'date',
  timestamp: 'timestamp',
  timestamptz: 'timestamp with time zone',
};

function cannotConvert(value: unknown, kind: ColumnKind): PluginError {
  return pluginError(
    'invalidTextRepresentation',
    `cannot convert Cypher value ${renderValue(value)} to ${typeNames[kind]}`,
    'Declare the column as agtype, or convert the value in the Cypher query.',
  );
}

/** PostgreSQL rounds a float to the nearest integer, ties to even, when casting to an integer type. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

function integerText(value: unknown, kind: 'int2' | 'int4' | 'int8'): string {
  let big: bigint | undefined;
  if (neo4j.isInt(value)) big = BigInt((value as Integer).toString());
  else if (typeof value === 'number' && Number.isFinite(value)) big = BigInt(roundHalfEven(value));
  else if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) big = BigInt(value.trim());
  if (big === undefined) throw cannotConvert(value, kind);
  const [min, max] = integerRanges[kind];
  if (big < min || big > max)
    throw pluginError('numericValueOutOfRange', `${typeNames[kind]} out of range: ${big}`);
  return big.toString();
}

function floatText(value: unknown, kind: 'float4' | 'float8'): string {
  if (typeof value === 'number') return float8Text(kind === 'float4' ? Math.fround(value) : value);
  if (neo4j.isInt(value)) return float8Text((value as Integer).toNumber());
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) {
    return float8Text(Number(value));
  }
  throw cannotConvert(value, kind);
}

/** numeric never uses exponent notation; a float keeps its shortest exact digits. */
function numericText(value: unknown): string {
  if (neo4j.isInt(value)) return value.toString();
  if (typeof value === 'number') {
    return Number.isFinite(value) ? plainDecimal(value) : float8Text(value);
  }
  if (typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(value)) return value.trim();
  throw cannotConvert(value, 'numeric');
}

function plainDecimal(value: number): string {
  const shortest = String(value);
  if (!shortest.includes('e')) return shortest;
  const [mantissa, exponentText] = shortest.split('e');
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const point = exponent + 1;
  const text =
    point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : digits + '0'.repeat(Math.max(0, point - digits.length));
  return negative ? `-${text}` : text;
}

const trueWords = new Set(['t', 'true', 'yes', 'y', 'on', '1']);
const falseWords = new Set(['f', 'false', 'no', 'n', 'off', '0']);

function boolText(value: unknown): string {
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (trueWords.has(word)) return 't';
    if (falseWords.has(word)) return 'f';
  }
  throw cannotConvert(value, 'bool');
}

/** JSON with agtype's layout (which is jsonb's); graph values become their maps, temporal values strings. */
function jsonValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw cannotConvert(value, 'json');
    return float8Text(value);
  }
  if (Array.isArray(value)) return `[${value.map(jsonValue).join(', ')}]`;
  if (neo4j.isNode(value)) {
    return jsonObject({ id: value.identity, label: value.labels.join(':'), properties: value.properties });
  }
  if (neo4j.isRelationship(value)) {
    return jsonObject({
      id: value.identity,
      label: value.type,
      end_id: value.end,
      start_id: value.start,
      properties: value.properties,
    });
  }
  if (neo4j.isPath(value)) {
    const parts: unknown[] = [value.start];
    for (const segment of value.segments) parts.push(segment.relationship, segment.end);
    return jsonValue(parts);
  }
  const text = renderValue(value);
  if (text.startsWith('{') && typeof value === 'object' && !neo4j.isPoint(value)) {
    return jsonObject(value as Record<string, unknown>);
  }
  return text;
}

function jsonObject(fields: Record<string, unknown>): string {
  const entries = Object.entries(fields).sort(([a], [b]) => jsonbKeyOrder(a, b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${jsonValue(v)}`).join(', ')}}`;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** PostgreSQL prints microseconds at most, without trailing zeros; Neo4j's nanoseconds are truncated. */
function fraction(nanosecond: number): string {
  const micros = Math.floor(nanosecond / 1000);
  return micros === 0 ? '' : `.${pad(micros, 6).replace(/0+$/, '')}`;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanosecond: number;
}

function wallClock(value: Record<string, unknown>): WallClock {
  const n = (key: string) => {
    const field = value[key];
    return neo4j.isInt(field) ? (field as Integer).toNumber() : Number(field ?? 0);
  };
  return {
    year: n('year'),
    month: n('month'),
    day: n('day'),
    hour: n('hour'),
    minute: n('minute'),
    second: n('second'),
    nanosecond: n('nanosecond'),
  };
}

const dateOf = (c: WallClock) =>
  c.year < 1
    ? `${pad(1 - c.year, 4)}-${pad(c.month)}-${pad(c.day)} BC`
    : `${pad(c.year, 4)}-${pad(c.month)}-${pad(c.day)}`;

function timestampOf(c: WallClock): string {
  const date = dateOf(c);
  const time = `${pad(c.hour)}:${pad(c.minute)}:${pad(c.second)}${fraction(c.nanosecond)}`;
  return date.endsWith(' BC') ? `${date.slice(0, -3)} ${time} BC` : `${date} ${time}`;
}

function offsetText(seconds: number): string {
  const sign = seconds < 0 ? '-' : '+';
  const abs = Math.abs(seconds);
  const hours = pad(Math.floor(abs / 3600));
  const minutes = Math.floor((abs % 3600) / 60);
  const secs = abs % 60;
  return `${sign}${hours}${minutes || secs ? `:${pad(minutes)}` : ''}${secs ? `:${pad(secs)}` : ''}`;
}

/** A DateTime with only a zone name (no offset) is shown in UTC. */
function timestamptzText(value: DateTime): string {
  const offset = value.timeZoneOffsetSeconds;
  if (offset !== undefined && offset !== null) {
    return timestampOf(wallClock(value as unknown as Record<string, unknown>)) + offsetText(Number(offset));
  }
  const utc = value.toStandardDate();
  const nanos =
    (neo4j.isInt(value.nanosecond) ? value.nanosecond.toNumber() : Number(value.nanosecond)) % 1e6;
  const clock: WallClock = {
    year: utc.getUTCFullYear(),
    month: utc.getUTCMonth() + 1,
    day: utc.getUTCDate(),
    hour: utc.getUTCHours(),
    minute: utc.getUTCMinutes(),
    second: utc.getUTCSeconds(),
    nanosecond: utc.getUTCMilliseconds() * 1e6 + nanos,
  };
  return `${timestampOf(clock)}+00`;
}

/** Strings are passed on only in ISO 8601 forms PostgreSQL reads back as the same instant. */
const isoText = {
  date: /^\d{4}-\d{2}-\d{2}$/,
  timestamp: /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$/,
  timestamptz: /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$/,
};

function temporalText(value: unknown, kind: 'date' | 'timestamp' | 'timestamptz'): string {
  const isDate = neo4j.isDate(value);
  const isLocal = neo4j.isLocalDateTime(value);
  const isZoned = neo4j.isDateTime(value);
  if (typeof value === 'string') {
    const text = value.trim();
    if (!isoText[kind].test(text)) throw cannotConvert(value, kind);
    return text.replace('T', ' ');
  }
  if (!isDate && !isLocal && !isZoned) throw cannotConvert(value, kind);
  const clock = wallClock(value as unknown as Record<string, unknown>);
  if (kind === 'date') return dateOf(clock);
  if (kind === 'timestamp') return timestampOf(clock);
  if (isZoned) return timestamptzText(value as DateTime);
  throw pluginError(
    'invalidTextRepresentation',
    `cannot convert Cypher ${isDate ? 'date' : 'local datetime'} ${renderValue(value)} to timestamp with time zone without a zone`,
    'Return a datetime() with a zone or offset, or declare the column as timestamp.',
  );
}

/** One result cell: SQL NULL for Cypher null, otherwise the column type's text form. */
export function typedText(value: unknown, kind: ColumnKind): string | null {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'agtype':
      return agtypeText(value);
    case 'text':
      return typeof value === 'string' ? value : renderValue(value);
    case 'int2':
    case 'int4':
    case 'int8':
      return integerText(value, kind);
    case 'float4':
    case 'float8':
      return floatText(value, kind);
    case 'numeric':
      return numericText(value);
    case 'bool':
      return boolText(value);
    case 'json':
      return jsonValue(value);
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return temporalText(value, kind);
  }
}
