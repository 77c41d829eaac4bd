// PostgreSQL's sort order for the types merged in the proxy; text compares in the C collation (bytes).
import { compareNumeric, parseNumeric } from './numeric.js';
import { parseFloatText } from './float.js';
import { Oid, floatTypes, integerTypes } from './type-oids.js';

export type Compare = (a: Buffer, b: Buffer) => number;

const sign = (n: number | bigint) => (n < 0 ? -1 : n > 0 ? 1 : 0);

function compareIntegers(a: Buffer, b: Buffer): number {
  return sign(BigInt(a.toString()) - BigInt(b.toString()));
}

function compareFloats(a: Buffer, b: Buffer): number {
  const x = parseFloatText(a.toString());
  const y = parseFloatText(b.toString());
  // NaN sorts above every other value and equals itself.
  if (Number.isNaN(x) || Number.isNaN(y))
    return Number.isNaN(x) === Number.isNaN(y) ? 0 : Number.isNaN(x) ? 1 : -1;
  return sign(x - y);
}

function compareBool(a: Buffer, b: Buffer): number {
  return sign(a[0] - b[0]);
}

/** date, timestamp: ISO text orders as the values do, except the infinities. */
function compareIsoText(a: Buffer, b: Buffer): number {
  const rank = (s: string) => (s === 'infinity' ? 1 : s === '-infinity' ? -1 : 0);
  const sa = a.toString();
  const sb = b.toString();
  const r = rank(sa) - rank(sb);
  if (r !== 0 || rank(sa) !== 0) return sign(r);
  return Buffer.compare(a, b);
}

/** timestamptz in ISO DateStyle, `2024-01-02 03:04:05.123456+01`, as microseconds since the epoch. */
function timestamptzMicros(s: string): bigint | null {
  const m =
    /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/.exec(s);
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  const offset = (+m[9] * 3600 + +(m[10] ?? 0) * 60 + +(m[11] ?? 0)) * (m[8] === '-' ? -1 : 1);
  const micros = BigInt((m[7] ?? '').padEnd(6, '0').slice(0, 6) || '0');
  return (BigInt(ms) - BigInt(offset) * 1000n) * 1000n + micros;
}

function compareTimestamptz(a: Buffer, b: Buffer): number {
  const x = timestamptzMicros(a.toString());
  const y = timestamptzMicros(b.toString());
  if (x === null || y === null) return compareIsoText(a, b);
  return sign(x - y);
}

function compareNumericText(a: Buffer, b: Buffer): number {
  return compareNumeric(parseNumeric(a.toString()), parseNumeric(b.toString()));
}

/** Compares two non-null text-format values of one type; types without a rule compare as bytes. */
export function comparerFor(typeOid: number): Compare {
  if (integerTypes.has(typeOid)) return compareIntegers;
  if (floatTypes.has(typeOid)) return compareFloats;
  if (typeOid === Oid.numeric) return compareNumericText;
  if (typeOid === Oid.bool) return compareBool;
  if (typeOid === Oid.date || typeOid === Oid.timestamp) return compareIsoText;
  if (typeOid === Oid.timestamptz) return compareTimestamptz;
  return Buffer.compare;
}

/** A column position; a negative one counts from the end (helper columns the planner appended). */
export function columnIndex(index: number, width: number): number {
  return index < 0 ? width + index : index;
}

export interface SortKey {
  /** Column position, or negative from the end (-1 is the last column). */
  index: number;
  desc: boolean;
  /** NULLS FIRST; PostgreSQL's default is NULLS LAST for ASC and NULLS FIRST for DESC. */
  nullsFirst: boolean;
}

/** A row comparator for ORDER BY keys over columns of the given types. */
export function rowComparer(
  keys: SortKey[],
  typeOids: number[],
): (a: (Buffer | null)[], b: (Buffer | null)[]) => number {
  const at = (k: SortKey) => columnIndex(k.index, typeOids.length);
  const compares = keys.map((k) => comparerFor(typeOids[at(k)]));
  const indexes = keys.map(at);
  return (a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const x = a[indexes[i]];
      const y = b[indexes[i]];
      let c: number;
      if (x === null || y === null) {
        if (x === y) continue;
        c = (x === null) === k.nullsFirst ? -1 : 1;
        if (c !== 0) return c;
        continue;
      }
      c = compares[i](x, y);
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  };
}

export function describeSortKey(k: SortKey): string {
  const defaultNullsFirst = k.desc;
  return `${k.index < 0 ? `$end${k.index + 1 || ''}` : `$${k.index + 1}`}${k.desc ? ' DESC' : ''}${k.nullsFirst !== defaultNullsFirst ? (k.nullsFirst ? ' NULLS FIRST' : ' NULLS LAST') : ''}`;
}
