// PostgreSQL's numeric division for avg(): the same result scale (select_div_scale) and rounding, in exact arithmetic.

interface Decimal {
  /** value = digits / 10^scale */
  readonly digits: bigint;
  readonly scale: number;
}

export function parseDecimal(text: string): Decimal {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`not a decimal: ${text}`);
  const [, sign, whole = '', fraction = '', exponentText] = match;
  let scale = fraction.length - Number(exponentText ?? 0);
  let digits = BigInt(`${whole}${fraction}` || '0');
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits: sign === '-' ? -digits : digits, scale };
}

const abs = (n: bigint) => (n < 0n ? -n : n);

/** Weight and first digit of a value in PostgreSQL's base-10000 representation (0 and 0 for zero). */
function baseTenThousand(value: Decimal): { weight: number; first: number } {
  const magnitude = abs(value.digits);
  if (magnitude === 0n) return { weight: 0, first: 0 };
  const exponent = magnitude.toString().length - 1 - value.scale;
  const weight = Math.floor(exponent / 4);
  const shift = weight * 4 - -value.scale;
  const first = shift >= 0 ? magnitude / 10n ** BigInt(shift) : magnitude * 10n ** BigInt(-shift);
  return { weight, first: Number(first % 10000n) };
}

function resultScale(dividend: Decimal, divisor: Decimal): number {
  const a = baseTenThousand(dividend);
  const b = baseTenThousand(divisor);
  let quotientWeight = a.weight - b.weight;
  if (a.first <= b.first) quotientWeight--;
  const scale = Math.max(16 - quotientWeight * 4, dividend.scale, divisor.scale, 0);
  return Math.min(scale, 1000);
}

/** dividend / divisor as PostgreSQL's numeric text, rounding half away from zero. */
export function divideNumeric(dividendText: string, divisor: bigint): string {
  const dividend = parseDecimal(dividendText);
  const scale = resultScale(dividend, { digits: divisor, scale: 0 });
  const numerator = abs(dividend.digits) * 10n ** BigInt(scale);
  const denominator = abs(divisor) * 10n ** BigInt(dividend.scale);
  let quotient = numerator / denominator;
  if ((numerator % denominator) * 2n >= denominator) quotient++;
  const negative = dividend.digits < 0n !== divisor < 0n && quotient !== 0n;
  const text = quotient.toString().padStart(scale + 1, '0');
  const body = scale ? `${text.slice(0, -scale)}.${text.slice(-scale)}` : text;
  return negative ? `-${body}` : body;
}
