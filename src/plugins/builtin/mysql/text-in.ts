// PostgreSQL text values (bound parameters, quoted literals) turned into what MySQL should receive for a PostgreSQL type.
import { invalidInput } from './errors.js';
import type { PgType } from './pg-types.js';

export type MysqlValue = string | number | Buffer | null;

const trueWords = new Set(['t', 'true', 'y', 'yes', 'on', '1']);
const falseWords = new Set(['f', 'false', 'n', 'no', 'off', '0']);

function boolValue(text: string): number {
  const word = text.trim().toLowerCase();
  if (trueWords.has(word)) return 1;
  if (falseWords.has(word)) return 0;
  throw invalidInput('boolean', text);
}

function integerValue(text: string, type: PgType): MysqlValue {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed))
    throw invalidInput(type === 'int8' ? 'bigint' : type === 'int2' ? 'smallint' : 'integer', text);
  const n = Number(trimmed);
  return Number.isSafeInteger(n) ? n : trimmed;
}

function numericValue(text: string): string {
  const trimmed = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) throw invalidInput('numeric', text);
  return trimmed;
}

const timestampPattern =
  /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A timestamp with an offset is moved to UTC, the time zone of the plugin's MySQL sessions. */
function timestampValue(text: string, type: PgType): string {
  const match = timestampPattern.exec(text.trim());
  if (!match) throw invalidInput(type === 'date' ? 'date' : 'timestamp', text);
  const [, date, time = '00:00:00', zone] = match;
  if (type === 'date') return date;
  const full = time.length === 5 ? `${time}:00` : time;
  if (!zone || type === 'timestamp') return `${date} ${full}`;
  const offset =
    zone.toUpperCase() === 'Z'
      ? '+00:00'
      : zone.length === 3
        ? `${zone}:00`
        : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const [whole, fraction = ''] = full.split('.');
  const utc = new Date(`${date}T${whole}${offset}`);
  if (Number.isNaN(utc.getTime())) throw invalidInput('timestamp with time zone', text);
  const iso = utc.toISOString().slice(0, 19).replace('T', ' ');
  return fraction ? `${iso}.${fraction}` : iso;
}

function byteaValue(text: string): Buffer {
  if (text.startsWith('\\x')) {
    const digits = text.slice(2);
    if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw invalidInput('bytea', text);
    return Buffer.from(digits, 'hex');
  }
  return Buffer.from(text, 'utf8');
}

/** The value to bind for a PostgreSQL text value of this type; unknown types go as text, as MySQL coerces them. */
export function mysqlValue(text: string | null, type: PgType | null): MysqlValue {
  if (text === null) return null;
  switch (type) {
    case 'bool':
      return boolValue(text);
    case 'int2':
    case 'int4':
    case 'int8':
      return integerValue(text, type);
    case 'numeric':
      return numericValue(text);
    case 'float4':
    case 'float8': {
      const n = Number(text.trim());
      if (text.trim() === '' || Number.isNaN(n)) throw invalidInput('double precision', text);
      return n;
    }
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return timestampValue(text, type);
    case 'bytea':
      return byteaValue(text);
    default:
      return text;
  }
}
