// float8 in PostgreSQL's text form: shortest round-trip digits, exponent form below 1e-4 and from 1e15.

/** PostgreSQL writes a decimal exponent outside [-4, 15) in exponent form (at least two exponent digits). */
const minFixedExponent = -4;
const maxFixedExponent = 15;

export function float8Text(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  // toExponential() without digits gives the shortest round-tripping digits, the same ones PostgreSQL prints.
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < minFixedExponent || exponent >= maxFixedExponent) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return plainDecimal(mantissa, exponent);
}

/** Digits "d.ddd" (maybe signed) times 10^exponent, written without an exponent. */
export function plainDecimal(mantissa: string, exponent: number): string {
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const point = 1 + exponent;
  let text: string;
  if (point <= 0) text = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) text = digits + '0'.repeat(point - digits.length);
  else text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${text}` : text;
}
