// Doubles in PostgreSQL's float8 text form (shortest exact digits, exponent outside 1e-4 .. 1e15), as agtype prints them.

/** PostgreSQL switches to exponent notation below this decimal exponent or at DBL_DIG (15) and above. */
const minFixedExponent = -4;
const maxFixedExponent = 15;

export function pgFloatText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  // toExponential() without digits gives JavaScript's shortest round-tripping digits, the same ones PostgreSQL prints.
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < minFixedExponent || exponent >= maxFixedExponent) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const point = exponent + 1;
  let text: string;
  if (point <= 0) text = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) text = digits + '0'.repeat(point - digits.length);
  else text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${text}` : text;
}

/** agtype marks a float that prints as a whole number with `.0`, so it reads back as a float. */
export function agtypeFloatText(value: number): string {
  const text = pgFloatText(value);
  return /^-?\d+$/.test(text) ? `${text}.0` : text;
}
