// Doubles in PostgreSQL's float8 output form and agtype's float form.
import { describe, expect, it } from 'vitest';
import { agtypeFloatText } from '../../../../src/plugins/builtin/graph-neo4j/float-text.js';
import { float8Text } from '../../../../src/protocol/float-text.js';

describe('float8Text', () => {
  it.each([
    [0, '0'],
    [-0, '-0'],
    [1.5, '1.5'],
    [0.1 + 0.2, '0.30000000000000004'],
    [123456789012345, '123456789012345'],
    [1e15, '1e+15'],
    [1.5e15, '1.5e+15'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-1.25e-10, '-1.25e-10'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
  ])('prints %d as %s', (value, text) => {
    expect(float8Text(value)).toBe(text);
  });
});

describe('agtypeFloatText', () => {
  it('adds .0 only where the float would read back as an integer', () => {
    expect(agtypeFloatText(3)).toBe('3.0');
    expect(agtypeFloatText(-0)).toBe('-0.0');
    expect(agtypeFloatText(3.25)).toBe('3.25');
    expect(agtypeFloatText(1e15)).toBe('1e+15');
    expect(agtypeFloatText(NaN)).toBe('NaN');
  });
});
