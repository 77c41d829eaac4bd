// avg() of integers and numeric as PostgreSQL computes it: MySQL gives the exact sum and count, the quotient's scale is PostgreSQL's.
import { bodyOf, listOf, namesOf, type Node } from './ast.js';
import { join, type Frag } from './fragments.js';
import { isInteger } from './pg-types.js';
import { typeOfFrag, type Scope, type Translate } from './scope.js';

/** For a select-list item that is exactly avg(x) of integers or numeric: MySQL's SUM(x) and COUNT(x). */
export function averageParts(t: Translate, node: Node, scope: Scope): { sum: Frag; count: Frag } | undefined {
  const call = bodyOf(node, 'FuncCall');
  const names = namesOf(call?.funcname);
  if (!call || names[names.length - 1] !== 'avg' || (names.length > 1 && names[0] !== 'pg_catalog'))
    return undefined;
  if (call.over || call.agg_filter || call.agg_star || listOf(call.agg_order).length) return undefined;
  const args = listOf(call.args);
  if (args.length !== 1) return undefined;
  const arg = t.expr(args[0], scope);
  const type = typeOfFrag(arg);
  if (!isInteger(type) && type !== 'numeric') return undefined;
  const distinct = call.agg_distinct ? 'DISTINCT ' : '';
  return {
    sum: join('numeric', `SUM(${distinct}`, arg, ')'),
    count: join('int8', `COUNT(${distinct}`, arg, ')'),
  };
}

/** A decimal's digits as an integer and its scale (digits after the point). */
function decimal(text: string): { units: bigint; scale: number } {
  const [whole, fraction = ''] = text.replace(/^\+/, '').split('.');
  return { units: BigInt(whole + fraction), scale: fraction.length };
}

/** PostgreSQL's weight (in base-10000 digits) and first base-10000 digit of a non-zero decimal. */
function baseTenThousand(text: string): { weight: number; first: number } {
  const [rawWhole, fraction = ''] = text.replace(/^[+-]/, '').split('.');
  const whole = rawWhole.replace(/^0+/, '');
  if (whole) {
    const head = whole.length % 4 || 4;
    return { weight: Math.ceil(whole.length / 4) - 1, first: Number(whole.slice(0, head)) };
  }
  const padded = fraction.padEnd(Math.ceil(fraction.length / 4) * 4, '0');
  for (let i = 0; i < padded.length; i += 4) {
    const digit = Number(padded.slice(i, i + 4));
    if (digit !== 0) return { weight: -(i / 4) - 1, first: digit };
  }
  return { weight: 0, first: 0 };
}

/** numeric_div's result scale (select_div_scale): at least 16 significant digits, never less than the inputs'. */
function divisionScale(dividend: string, divisor: string): number {
  const a = baseTenThousand(dividend);
  const b = baseTenThousand(divisor);
  let quotientWeight = a.weight - b.weight;
  if (a.first <= b.first) quotientWeight--;
  const scale = Math.max(16 - quotientWeight * 4, decimal(dividend).scale, decimal(divisor).scale, 0);
  return Math.min(scale, 1000);
}

/** sum / count rounded half away from zero to PostgreSQL's scale; NULL for an empty group. */
export function pgAverage(sum: unknown, count: unknown): string | null {
  if (sum === null || sum === undefined || Number(count) === 0) return null;
  const sumText = String(sum);
  const countText = String(count);
  const scale = divisionScale(sumText, countText);
  const { units, scale: sumScale } = decimal(sumText);
  const negative = units < 0n;
  const numerator = (negative ? -units : units) * 10n ** BigInt(scale);
  const denominator = BigInt(countText) * 10n ** BigInt(sumScale);
  let quotient = numerator / denominator;
  if ((numerator % denominator) * 2n >= denominator) quotient++;
  const digits = quotient.toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative && quotient !== 0n ? `-${text}` : text;
}
