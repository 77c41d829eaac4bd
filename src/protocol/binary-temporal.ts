// Binary date, timestamp and numeric values as ISO / decimal text, so bound shard keys read as literals do.

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** A proleptic Gregorian date from days since 2000-01-01, as `YYYY-MM-DD` (` BC` for years before 1). */
function civil(days: number): string {
  const z = days + 730425;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const date = `${pad(year > 0 ? year : 1 - year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
  return year > 0 ? date : `${date} BC`;
}

/** date_send's int4 (days since 2000-01-01; the extremes are -infinity and infinity). */
export function dateText(value: Buffer): string {
  const days = value.readInt32BE(0);
  if (days === -2147483648) return '-infinity';
  if (days === 2147483647) return 'infinity';
  return civil(days);
}

/** timestamp_send's int8 (microseconds since 2000-01-01 00:00). */
export function timestampText(value: Buffer): string {
  const micros = value.readBigInt64BE(0);
  if (micros === -(1n << 63n)) return '-infinity';
  if (micros === (1n << 63n) - 1n) return 'infinity';
  const perDay = 86_400_000_000n;
  let days = micros / perDay;
  let rest = micros % perDay;
  if (rest < 0n) {
    rest += perDay;
    days -= 1n;
  }
  const date = civil(Number(days));
  const r = Number(rest);
  const [h, m, s, us] = [
    Math.floor(r / 3_600_000_000),
    Math.floor(r / 60_000_000) % 60,
    Math.floor(r / 1_000_000) % 60,
    r % 1_000_000,
  ];
  const time = `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(us, 6)}`;
  return date.endsWith(' BC') ? `${date.slice(0, -3)} ${time} BC` : `${date} ${time}`;
}

/** numeric_send: ndigits, weight, sign, dscale, then base-10000 digits; as numeric_out writes it. */
export function numericText(value: Buffer): string {
  const [ndigits, weight, sign, dscale] = [
    value.readInt16BE(0),
    value.readInt16BE(2),
    value.readUInt16BE(4),
    value.readInt16BE(6),
  ];
  if (sign === 0xc000) return 'NaN';
  if (sign === 0xd000) return 'Infinity';
  if (sign === 0xf000) return '-Infinity';
  const digits = Array.from({ length: ndigits }, (_, i) => pad(value.readInt16BE(8 + i * 2), 4)).join('');
  // The first group holds the digits at 10000^weight: the decimal point follows (weight + 1) groups.
  const point = (weight + 1) * 4;
  const all = point < 0 ? '0'.repeat(-point) + digits : digits.padEnd(point, '0');
  const at = Math.max(point, 0);
  const whole = all.slice(0, at).replace(/^0+/, '') || '0';
  const frac = all.slice(at).padEnd(dscale, '0').slice(0, dscale);
  const text = dscale > 0 ? `${whole}.${frac}` : whole;
  return sign === 0x4000 ? `-${text}` : text;
}
