// The proxy's deparse: subscripts and field selections of expressions come out parenthesized, and every
// statement here parses back to the tree it was written from.
import { beforeAll, describe, expect, it } from 'vitest';
import { deparseSql } from '../../../src/sql/deparse.js';
import { loadParser, parseHere } from '../../../src/sql/parser.js';

beforeAll(() => loadParser());

const withoutLocations = (node: unknown) =>
  JSON.stringify(node, (key, value: unknown) => (key === 'location' ? undefined : value));

function treeOf(sql: string): unknown {
  const parsed = parseHere(sql);
  if (!parsed.ok) throw new Error(`does not parse: ${sql}`);
  return parsed.statements[0];
}

describe('deparseSql', () => {
  it.each([
    ["SELECT (ARRAY['a', 'b'])[i] FROM t", "(ARRAY['a', 'b'])[i]"],
    ['SELECT (ARRAY[1, 2])[1:2]', '(ARRAY[1, 2])[1:2]'],
    ['SELECT (ARRAY[1])[1] + 1', '(ARRAY[1])[1] + 1'],
    ["SELECT ('{1,2}')[1]", "('{1,2}')[1]"],
    ['SELECT (CASE WHEN x THEN ARRAY[1] END)[1] FROM t', '(CASE WHEN x THEN ARRAY[1] END)[1]'],
    ['SELECT (ARRAY[ROW(1, 2)])[1]', '(ARRAY[ROW(1, 2)])[1]'],
    ['SELECT ($1)[2]', '$1[2]'],
    ['SELECT (f(x))[1], (x::int[])[1], (c).f FROM t', '(f(x))[1]'],
  ])('writes %s so that it parses back the same', (sql, expected) => {
    const tree = treeOf(sql);
    const text = deparseSql(tree);
    expect(text).toContain(expected);
    expect(withoutLocations(treeOf(text))).toBe(withoutLocations(tree));
  });
});
