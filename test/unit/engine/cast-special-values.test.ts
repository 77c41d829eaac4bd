// Casts of numeric NaN and infinities, with the SQLSTATEs and messages PostgreSQL 15 gives for the same casts.
import { describe, expect, it } from 'vitest';
import { castTarget, castText } from '../../../src/engine/values/cast-text.js';
import { ValueError } from '../../../src/engine/values/value-error.js';
import { Oid } from '../../../src/protocol/type-oids.js';

const to = (name: string, ...mods: number[]) => castTarget(name, mods)!;

function failure(text: string, from: number, target: string, ...mods: number[]): [string, string] {
  try {
    castText(text, from, to(target, ...mods));
  } catch (err) {
    if (err instanceof ValueError) return [err.sqlstate, err.message];
    throw err;
  }
  throw new Error(`${text}::${target} did not fail`);
}

describe('castText of special numeric values', () => {
  it('refuses numeric NaN and infinities as integers with 0A000, naming the type', () => {
    expect(failure('NaN', Oid.numeric, 'int4')).toEqual(['0A000', 'cannot convert NaN to integer']);
    expect(failure('NaN', Oid.numeric, 'int8')).toEqual(['0A000', 'cannot convert NaN to bigint']);
    expect(failure('-Infinity', Oid.numeric, 'int2')).toEqual([
      '0A000',
      'cannot convert infinity to smallint',
    ]);
    expect(failure('Infinity', Oid.numeric, 'int8')).toEqual(['0A000', 'cannot convert infinity to bigint']);
  });

  it('refuses float NaN as an integer as out of range (22003), as PostgreSQL does', () => {
    expect(failure('NaN', Oid.float8, 'int4')).toEqual(['22003', 'integer out of range']);
  });

  it('keeps NaN in numeric(p,s) and refuses an infinity there with 22003', () => {
    expect(castText('NaN', Oid.numeric, to('numeric', 5, 2))).toBe('NaN');
    expect(failure('Infinity', Oid.numeric, 'numeric', 5, 2)).toEqual(['22003', 'numeric field overflow']);
    expect(castText('Infinity', Oid.numeric, to('numeric'))).toBe('Infinity');
  });
});
