// Casts of merged values in text form, as PostgreSQL's casts between the numeric types and to text do them.
import { Oid, floatTypes, integerTypes } from './type-oids.js';
import { float8Text } from '../../protocol/float-text.js';
import { parseFloatText } from './float.js';
import { parseNumeric } from './numeric.js';
import { ValueError } from './value-error.js';

/** A cast target the proxy can apply: the type and its modifier (numeric(p,s), varchar(n)), -1 for none. */
export interface CastTarget {
  typeOid: number;
  typmod: number;
}

/** Type names as they appear in casts (pg_catalog names and SQL spellings) and their OIDs. */
const targetTypes: Record<string, number> = {
  int2: Oid.int2,
  smallint: Oid.int2,
  int4: Oid.int4,
  int: Oid.int4,
  integer: Oid.int4,
  int8: Oid.int8,
  bigint: Oid.int8,
  numeric: Oid.numeric,
  decimal: Oid.numeric,
  float8: Oid.float8,
  text: Oid.text,
  varchar: Oid.varchar,
};

/** The cast target for a type name and its modifiers, or null when the proxy cannot apply such a cast. */
export function castTarget(typeName: string, modifiers: number[]): CastTarget | null {
  const typeOid = targetTypes[typeName];
  if (typeOid === undefined) return null;
  if (typeOid === Oid.numeric && modifiers.length > 0) {
    const [precision, scale = 0] = modifiers;
    return { typeOid, typmod: ((precision << 16) | scale) + 4 };
  }
  if (typeOid === Oid.varchar && modifiers.length > 0) return { typeOid, typmod: modifiers[0] + 4 };
  return modifiers.length === 0 ? { typeOid, typmod: -1 } : null;
}

/** Each integer type's range and the name its errors give. */
const integerRanges: Record<number, [bigint, bigint, string]> = {
  [Oid.int2]: [-32768n, 32767n, 'smallint'],
  [Oid.int4]: [-2147483648n, 2147483647n, 'integer'],
  [Oid.int8]: [-(2n ** 63n), 2n ** 63n - 1n, 'bigint'],
};

/** Converts one non-null value of type `from` (in text form) to the target, or throws a ValueError. */
export function castText(text: string, from: number, to: CastTarget): string {
  const range = integerRanges[to.typeOid];
  if (range) return inRange(toInteger(text, from, range[2]), range);
  switch (to.typeOid) {
    case Oid.numeric:
      return toNumeric(text, from, to.typmod);
    case Oid.float8:
      return integerTypes.has(from) || from === Oid.numeric || floatTypes.has(from)
        ? float8Text(parseFloatText(text))
        : unsupported(from, to);
    case Oid.text:
      return from === Oid.bool ? (text === 't' ? 'true' : 'false') : text;
    case Oid.varchar: {
      const value = from === Oid.bool ? (text === 't' ? 'true' : 'false') : text;
      // varchar(n) cuts longer values to n characters, silently, as an explicit cast does.
      return to.typmod > 4 ? [...value].slice(0, to.typmod - 4).join('') : value;
    }
    default:
      return unsupported(from, to);
  }
}

function unsupported(from: number, to: CastTarget): never {
  throw new ValueError(
    'featureNotSupported',
    `a cast from type ${from} to type ${to.typeOid} is not supported across shards`,
  );
}

/** An integer as PostgreSQL rounds into one: numeric half away from zero, float half to even. */
function toInteger(text: string, from: number, typeName: string): bigint {
  if (integerTypes.has(from)) return BigInt(text);
  const overflow = `${typeName} out of range`;
  if (from === Oid.numeric) {
    const v = parseNumeric(text);
    // PostgreSQL refuses NaN and infinities as unsupported here, not as out of range (numeric_int8 and its kin).
    if (typeof v === 'string') {
      const special = v === 'NaN' ? v : 'infinity';
      throw new ValueError('featureNotSupported', `cannot convert ${special} to ${typeName}`);
    }
    return roundHalfAway(v.coef, v.scale);
  }
  if (floatTypes.has(from)) {
    const f = parseFloatText(text);
    if (!Number.isFinite(f)) throw new ValueError('numericValueOutOfRange', overflow);
    const floor = Math.floor(f);
    const diff = f - floor;
    const even = floor % 2 === 0 ? floor : floor + 1;
    const rounded = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : even;
    if (!Number.isSafeInteger(rounded) && Math.abs(rounded) >= 2 ** 63)
      throw new ValueError('numericValueOutOfRange', overflow);
    return BigInt(rounded);
  }
  throw new ValueError(
    'featureNotSupported',
    `a cast from type ${from} to an integer type is not supported across shards`,
  );
}

function inRange(v: bigint, [min, max, typeName]: [bigint, bigint, string]): string {
  if (v < min || v > max) throw new ValueError('numericValueOutOfRange', `${typeName} out of range`);
  return v.toString();
}

/** coef × 10^-scale rounded to a whole number, halves away from zero. */
function roundHalfAway(coef: bigint, scale: number): bigint {
  if (scale <= 0) return coef * 10n ** BigInt(-scale);
  const unit = 10n ** BigInt(scale);
  const negative = coef < 0n;
  const abs = negative ? -coef : coef;
  const q = abs / unit + (abs % unit >= unit / 2n ? 1n : 0n);
  return negative ? -q : q;
}

function toNumeric(text: string, from: number, typmod: number): string {
  if (!integerTypes.has(from) && from !== Oid.numeric) {
    // float8 -> numeric keeps only DBL_DIG significant digits in PostgreSQL: not reproduced here.
    throw new ValueError(
      'featureNotSupported',
      `a cast from type ${from} to numeric is not supported across shards`,
    );
  }
  if (typmod < 4) return text;
  const precision = ((typmod - 4) >> 16) & 0xffff;
  const scale = (typmod - 4) & 0xffff;
  const v = parseNumeric(text);
  // NaN fits any numeric(p,s); an infinity fits none.
  if (v === 'NaN') return v;
  if (typeof v === 'string') throw new ValueError('numericValueOutOfRange', 'numeric field overflow');
  const shifted =
    v.scale <= scale ? v.coef * 10n ** BigInt(scale - v.scale) : roundHalfAway(v.coef, v.scale - scale);
  const negative = shifted < 0n;
  const digits = (negative ? -shifted : shifted).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  if (whole.replace(/^0+/, '').length > precision - scale) {
    throw new ValueError('numericValueOutOfRange', 'numeric field overflow');
  }
  const body = scale > 0 ? `${whole}.${digits.slice(digits.length - scale)}` : whole;
  return negative ? `-${body}` : body;
}
