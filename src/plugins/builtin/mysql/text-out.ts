// MySQL values (as mysql2 returns them) written in PostgreSQL's text output format for the column's PostgreSQL type.
import type { PgType } from './pg-types.js';

/** PostgreSQL's float output: shortest round-trip digits, exponent form below 1e-4 or from 1e15 (1e6 for float4). */
export function floatText(value: number, single: boolean): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [digitsPart, exponentPart] = shortest(value, single).split('e');
  const exponent = Number(exponentPart);
  const negative = digitsPart.startsWith('-');
  const digits = digitsPart.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= (single ? 6 : 15)) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? '-' : '+';
    return `${sign}${mantissa}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return `${sign}${digits}${'0'.repeat(exponent + 1 - digits.length)}`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

/** Shortest digits in exponent form that read back as the same double (or, for float4, the same single). */
function shortest(value: number, single: boolean): string {
  if (!single) return value.toExponential();
  for (let precision = 1; precision <= 9; precision++) {
    const text = value.toExponential(precision - 1);
    if (Math.fround(Number(text)) === value) return text;
  }
  return value.toExponential(8);
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` without the fraction's trailing zeros, as PostgreSQL prints timestamps. */
function trimFraction(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** jsonb's text form: keys ordered by length then bytes, the last of duplicate keys kept, `": "` and `", "`. */
export function jsonbText(text: string): string {
  let at = 0;
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at])) at++;
  };
  const value = (): string => {
    space();
    const c = text[at];
    if (c === '{') {
      at++;
      const members = new Map<string, string>();
      space();
      if (text[at] === '}') {
        at++;
        return '{}';
      }
      for (;;) {
        space();
        const key = stringToken();
        space();
        at++; // the colon
        members.set(key, value());
        space();
        if (text[at++] === '}') break;
      }
      const keys = [...members.keys()].sort((a, b) => {
        const la = Buffer.byteLength(JSON.parse(a) as string);
        const lb = Buffer.byteLength(JSON.parse(b) as string);
        return (
          la - lb ||
          Buffer.compare(Buffer.from(JSON.parse(a) as string), Buffer.from(JSON.parse(b) as string))
        );
      });
      return `{${keys.map((key) => `${key}: ${members.get(key)}`).join(', ')}}`;
    }
    if (c === '[') {
      at++;
      const items: string[] = [];
      space();
      if (text[at] === ']') {
        at++;
        return '[]';
      }
      for (;;) {
        items.push(value());
        space();
        if (text[at++] === ']') break;
      }
      return `[${items.join(', ')}]`;
    }
    if (c === '"') return stringToken();
    const start = at;
    while (at < text.length && !',}] \t\n\r'.includes(text[at])) at++;
    return text.slice(start, at);
  };
  const stringToken = (): string => {
    const start = at++;
    while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    at++;
    // Re-encoded so that escapes read the same way PostgreSQL writes them (\u00e9 becomes é).
    return JSON.stringify(JSON.parse(text.slice(start, at)) as string);
  };
  return value();
}

const hex = (bytes: Buffer) => `\\x${bytes.toString('hex')}`;

/** One value in PostgreSQL text form; null stays SQL NULL. */
export function pgText(value: unknown, type: PgType): string | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'bool':
      return Number(value) !== 0 && value !== '0' ? 't' : 'f';
    case 'float4':
    case 'float8':
      return floatText(Number(value), type === 'float4');
    case 'bytea':
      return Buffer.isBuffer(value) ? hex(value) : hex(Buffer.from(String(value)));
    case 'timestamp':
    case 'time':
      return trimFraction(String(value));
    case 'timestamptz':
      // Sessions run with time_zone '+00:00': TIMESTAMP values are UTC.
      return `${trimFraction(String(value))}+00`;
    case 'jsonb':
      return jsonbText(
        Buffer.isBuffer(value)
          ? value.toString('utf8')
          : typeof value === 'string'
            ? value
            : JSON.stringify(value),
      );
    default:
      return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
}
