// The cypher() parameters map: integers stay Cypher INTEGERs, floats stay FLOATs, and bad maps get clear errors.
import neo4j from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { PluginError } from '../../../../src/plugins/api.js';
import { cypherParams } from '../../../../src/plugins/builtin/graph-neo4j/params.js';

const bound = (text: string | null) => cypherParams({ kind: 'bound', number: 1 }, [text]);

function sqlstateOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (err) {
    return err instanceof PluginError ? err.sqlstate : 'not a PluginError';
  }
  return undefined;
}

describe('cypherParams', () => {
  it('keeps integers (also past 2^53) as Integers and floats as numbers', () => {
    const params = bound(
      '{"a": 1, "b": 1.0, "c": 9007199254740993, "d": -2e3, "e": [1, 2.5], "f": {"g": 0}}',
    );
    expect(neo4j.isInt(params.a) && params.a.toString()).toBe('1');
    expect(params.b).toBe(1);
    expect(neo4j.isInt(params.c) && params.c.toString()).toBe('9007199254740993');
    expect(params.d).toBe(-2000);
    const list = params.e as unknown[];
    expect(neo4j.isInt(list[0])).toBe(true);
    expect(list[1]).toBe(2.5);
    expect(neo4j.isInt((params.f as Record<string, unknown>).g)).toBe(true);
  });

  it('reads strings with escapes, booleans and nulls', () => {
    expect(bound('{"s": "a\\"b\\u00e9", "t": true, "n": null}')).toEqual({ s: 'a"bé', t: true, n: null });
  });

  it('treats SQL NULL, no argument and an empty map alike', () => {
    expect(bound(null)).toEqual({});
    expect(cypherParams({ kind: 'none' }, [])).toEqual({});
    expect(cypherParams({ kind: 'literal', text: ' { } ' }, [])).toEqual({});
  });

  it('refuses text that is not a map', () => {
    expect(sqlstateOf(() => bound('[1]'))).toBe('22023');
    expect(sqlstateOf(() => bound('{"a": }'))).toBe('22P02');
    expect(sqlstateOf(() => bound('{"a": 1} x'))).toBe('22P02');
    expect(sqlstateOf(() => bound("{'a': 1}"))).toBe('22P02');
  });

  it('says when the referenced parameter was not bound', () => {
    expect(sqlstateOf(() => cypherParams({ kind: 'bound', number: 2 }, ['{}']))).toBe('42P02');
  });
});
