// PostgreSQL numeric arithmetic for merged aggregates: exact sums, comparison, and division at PostgreSQL's scale.

/** A finite numeric: coefficient × 10^-scale; scale is the display scale (digits after the point). */
export interface Decimal {
  coef: bigint;
  scale: number;
}

export type NumericValue = Decimal | 'NaN' | 'Infinity' | '-Infinity';

export function parseNumeric(text: string): NumericValue {
  const s = text.trim();
  if (s === 'NaN' || s === 'Infinity' || s === '-Infinity') return s;
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) throw new RangeError(`invalid numeric "${text}"`);
  const frac = m[3] ?? '';
  let coef = BigInt((m[2] || '0') + frac);
  let scale = frac.length;
  const exp = Number(m[4] ?? 0);
  if (exp > 0) {
    const shift = Math.min(exp, scale);
    scale -= shift;
    coef *= 10n ** BigInt(exp - shift);
  } else scale -= exp;
  return { coef: m[1] === '-' ? -coef : coef, scale };
}

function rescale(d: Decimal, scale: number): bigint {
  return d.coef * 10n ** BigInt(scale - d.scale);
}

export function addNumeric(a: NumericValue, b: NumericValue): NumericValue {
  if (a === 'NaN' || b === 'NaN') return 'NaN';
  if (typeof a === 'string' || typeof b === 'string') {
    if (typeof a === 'string' && typeof b === 'string' && a !== b) return 'NaN';
    return typeof a === 'string' ? a : (b as 'Infinity' | '-Infinity');
  }
  const scale = Math.max(a.scale, b.scale);
  return { coef: rescale(a, scale) + rescale(b, scale), scale };
}

/** PostgreSQL's order: NaN above everything, then the infinities. */
export function compareNumeric(a: NumericValue, b: NumericValue): number {
  const rank = (v: NumericValue) => (v === 'NaN' ? 2 : v === 'Infinity' ? 1 : v === '-Infinity' ? -1 : 0);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== 0 || rb !== 0) return Math.sign(ra - rb);
  const x = a as Decimal;
  const y = b as Decimal;
  const scale = Math.max(x.scale, y.scale);
  const d = rescale(x, scale) - rescale(y, scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

export function formatNumeric(v: NumericValue): string {
  if (typeof v === 'string') return v;
  const neg = v.coef < 0n;
  const digits = (neg ? -v.coef : v.coef).toString().padStart(v.scale + 1, '0');
  const int = digits.slice(0, digits.length - v.scale);
  const frac = digits.slice(digits.length - v.scale);
  return `${neg ? '-' : ''}${int}${v.scale > 0 ? `.${frac}` : ''}`;
}

/** Weight and first digit in base 10000, as PostgreSQL stores numerics (0 and 0 for zero). */
function baseDigits(d: Decimal): { weight: number; first: number } {
  const abs = d.coef < 0n ? -d.coef : d.coef;
  if (abs === 0n) return { weight: 0, first: 0 };
  const exponent = abs.toString().length - 1 - d.scale;
  const weight = Math.floor(exponent / 4);
  const shift = d.scale + 4 * weight;
  const first = shift >= 0 ? abs / 10n ** BigInt(shift) : abs * 10n ** BigInt(-shift);
  return { weight, first: Number(first) };
}

/** numeric_div: the quotient rounded half away from zero to select_div_scale's scale. */
export function divideNumeric(a: NumericValue, b: NumericValue): NumericValue {
  if (a === 'NaN' || b === 'NaN') return 'NaN';
  if (typeof a === 'string' || typeof b === 'string') return 'NaN';
  if (b.coef === 0n) throw new RangeError('division by zero');
  const x = baseDigits(a);
  const y = baseDigits(b);
  let qweight = x.weight - y.weight;
  if (x.first <= y.first) qweight--;
  const scale = Math.min(Math.max(16 - qweight * 4, a.scale, b.scale, 0), 1000);
  // a/b × 10^scale = a.coef × 10^(scale - a.scale + b.scale) / b.coef
  const exp = scale - a.scale + b.scale;
  let num = a.coef;
  let den = b.coef;
  if (exp >= 0) num *= 10n ** BigInt(exp);
  else den *= 10n ** BigInt(-exp);
  const neg = num < 0n !== den < 0n;
  if (num < 0n) num = -num;
  if (den < 0n) den = -den;
  let q = num / den;
  if ((num % den) * 2n >= den) q += 1n;
  return { coef: neg ? -q : q, scale };
}
