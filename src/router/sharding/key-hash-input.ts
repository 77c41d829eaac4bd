// Shard key literals of date, timestamp, bool, oid and numeric read as PostgreSQL stores them, for hashing.
//
// Only forms whose stored value does not depend on session settings are read (ISO dates and timestamps,
// whatever DateStyle says); any other text throws a RangeError, so the router lets every shard answer
// instead of guessing a placement.

/** DATEVAL_NOBEGIN / DATEVAL_NOEND and DT_NOBEGIN / DT_NOEND: how -infinity and infinity are stored. */
const int32Min = -2147483648;
const int32Max = 2147483647;
const int64Min = -(1n << 63n);
const int64Max = (1n << 63n) - 1n;

/** The one spelling of a date or timestamp whose value no DateStyle setting changes: what COPY errors ask for. */
const isoForms: Record<string, string> = { date: 'YYYY-MM-DD', timestamp: 'YYYY-MM-DD HH:MI:SS' };

const refuse = (type: string, text: string): never => {
  const form = isoForms[type];
  throw new RangeError(`cannot read "${text}" as a ${type} shard key${form ? `: write it as ${form}` : ''}`);
};

/** Days from 2000-01-01 to a proleptic Gregorian date (year 0 is 1 BC). */
function daysFrom2000(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 730425;
}

const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

const datePart = /^(\d{4,7})-(\d{1,2})-(\d{1,2})/;

/** The days of an ISO date at the start of `s`, and what follows it. */
function readDate(s: string, type: string, text: string): { days: number; rest: string } {
  const m = datePart.exec(s);
  if (!m) return refuse(type, text);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1) return refuse(type, text);
  const bc = / BC$/i.test(s);
  const y = bc ? 1 - year : year;
  if (day > (month === 2 && leap(y) ? 29 : monthDays[month - 1])) return refuse(type, text);
  return { days: daysFrom2000(y, month, day), rest: s.slice(m[0].length, bc ? -3 : undefined) };
}

/** date: days since 2000-01-01, as date_in stores an ISO date (`2020-02-29`, `0044-03-15 BC`, `infinity`). */
export function dateDays(text: string): number {
  const s = text.trim();
  const special = infinity(s);
  if (special !== 0) return special > 0 ? int32Max : int32Min;
  const { days, rest } = readDate(s, 'date', text);
  if (rest !== '') refuse('date', text);
  return days;
}

const timePart = /^[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;

/** timestamp: microseconds since 2000-01-01 00:00, as timestamp_in stores an ISO timestamp without zone. */
export function timestampMicros(text: string): bigint {
  const s = text.trim();
  const special = infinity(s);
  if (special !== 0) return special > 0 ? int64Max : int64Min;
  const { days, rest } = readDate(s, 'timestamp', text);
  let micros = 0n;
  if (rest !== '') {
    const m = timePart.exec(rest);
    if (!m) return refuse('timestamp', text);
    const [h, min, sec] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
    const frac = fractionMicros(m[4] ?? '');
    if (min > 59 || sec > 60 || h > 24 || (h === 24 && (min > 0 || sec > 0 || frac > 0)))
      refuse('timestamp', text);
    micros = BigInt(((h * 60 + min) * 60 + sec) * 1_000_000 + frac);
  }
  return BigInt(days) * 86_400_000_000n + micros;
}

/** Fractional seconds as microseconds, rounded half to even as rint() does for digits past the sixth. */
function fractionMicros(digits: string): number {
  if (digits.length <= 6) return Number(digits.padEnd(6, '0'));
  const x = Number(`0.${digits}`) * 1_000_000;
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** 1 for `infinity`, -1 for `-infinity`, else 0. */
function infinity(s: string): number {
  const l = s.toLowerCase();
  return l === 'infinity' || l === '+infinity' ? 1 : l === '-infinity' ? -1 : 0;
}

/** bool: 1 or 0, from any spelling boolin accepts. */
export function boolValue(text: string): number {
  const s = text.trim().toLowerCase();
  const prefixOf = (word: string, min: number) => s.length >= min && word.startsWith(s);
  if (s === '1' || prefixOf('true', 1) || prefixOf('yes', 1) || prefixOf('on', 2)) return 1;
  if (s === '0' || prefixOf('false', 1) || prefixOf('no', 1) || prefixOf('off', 2)) return 0;
  return refuse('boolean', text);
}

/** oid: the unsigned value; oidin also reads negative int4 values as their unsigned counterparts. */
export function oidValue(text: string): number {
  const s = text.trim();
  if (!/^[+-]?\d+$/.test(s)) return refuse('oid', text);
  const n = Number(s);
  if (n < int32Min || n > 0xffffffff) return refuse('oid', text);
  return n < 0 ? n + 0x100000000 : n;
}

/** A numeric as hash_numeric sees it: base-10000 digits without leading and trailing zero groups, and weight. */
export type NumericKey = 'special' | 'zero' | { digits: number[]; weight: number };

/** numeric_in's value of a literal: NaN and infinities are special, the sign does not take part. */
export function numericKey(text: string): NumericKey {
  const s = text.trim();
  if (/^(nan|[+-]?inf(inity)?)$/i.test(s)) return 'special';
  const m = /^[+-]?(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(s);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return refuse('numeric', text);
  const exponent = Number(m[3] ?? 0);
  if (Math.abs(exponent) > 1000) return refuse('numeric', text);
  let whole = m[1];
  let frac = m[2] ?? '';
  // Move the decimal point by the exponent, then group digits by four on either side of it.
  if (exponent > 0) {
    frac = frac.padEnd(exponent, '0');
    whole += frac.slice(0, exponent);
    frac = frac.slice(exponent);
  } else if (exponent < 0) {
    whole = whole.padStart(-exponent, '0');
    frac = whole.slice(whole.length + exponent) + frac;
    whole = whole.slice(0, whole.length + exponent);
  }
  whole = whole.padStart(Math.ceil(whole.length / 4) * 4, '0');
  frac = frac.padEnd(Math.ceil(frac.length / 4) * 4, '0');
  const groups = (d: string) =>
    Array.from({ length: d.length / 4 }, (_, i) => Number(d.slice(i * 4, i * 4 + 4)));
  const digits = [...groups(whole), ...groups(frac)];
  let weight = whole.length / 4 - 1;
  let start = 0;
  while (start < digits.length && digits[start] === 0) {
    start++;
    weight--;
  }
  if (start === digits.length) return 'zero';
  let end = digits.length;
  while (digits[end - 1] === 0) end--;
  return { digits: digits.slice(start, end), weight };
}
