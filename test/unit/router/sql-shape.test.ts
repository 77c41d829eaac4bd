// sqlShape: literals become `?` exactly where PostgreSQL's lexer sees literals; everything else stays.
import { parseSync } from 'libpg-query';
import { describe, expect, it } from 'vitest';
import { sqlShape } from '../../../src/router/sql-shape.js';
import { loadParser } from '../../../src/sql/parser.js';

describe('sqlShape', () => {
  it.each([
    ['SELECT * FROM t WHERE aid = 123', 'SELECT * FROM t WHERE aid = ?'],
    ["SELECT * FROM t WHERE name = 'bob'", 'SELECT * FROM t WHERE name = ?'],
    ["SELECT 'it''s', '''', ''", 'SELECT ?, ?, ?'],
    ["SELECT E'a\\'b', e'\\\\', E'x''y'", 'SELECT ?, ?, ?'],
    ["SELECT 'a\\'", 'SELECT ?'],
    ["SELECT $$it's$$, $fn$ body $$ inner $$ $fn$, $a$x$b$y$a$", 'SELECT ?, ?, ?'],
    ['SELECT -5, - 5, 3-2', 'SELECT -?, - ?, ?-?'],
    ['SELECT 1.5, .5, 1., 1e10, 1.5E-3, 2e+4', 'SELECT ?, ?, ?, ?, ?, ?'],
    ['SELECT 0x1F, 0o17, 0b101, 1_000_000, 0x_FF', 'SELECT ?, ?, ?, ?, ?'],
    ['SELECT t1.c2, a$1, _x9 FROM t1 JOIN s2_3 ON true', 'SELECT t1.c2, a$1, _x9 FROM t1 JOIN s2_3 ON true'],
    ['SELECT "col 1", "a""b", "x\'y" FROM "T 2"', 'SELECT "col 1", "a""b", "x\'y" FROM "T 2"'],
    ["SELECT $1, $23 FROM t WHERE a = $1 AND b = 'x'", 'SELECT $1, $23 FROM t WHERE a = $1 AND b = ?'],
    ["SELECT 1 -- it's 42\n, 2", "SELECT ? -- it's 42\n, ?"],
    ['/* polyproxy: primary */ SELECT 7', '/* polyproxy: primary */ SELECT ?'],
    [
      "SELECT /* 'x' /* nested 'y' 3 */ still comment 4 */ 5",
      "SELECT /* 'x' /* nested 'y' 3 */ still comment 4 */ ?",
    ],
    ["SELECT 'a'\n  'b' AS joined", 'SELECT ? AS joined'],
    ["SELECT E'a'\n'b\\'c'", 'SELECT ?'],
    [
      "SELECT 'a' -- no continuation on the same line\n'b'",
      'SELECT ? -- no continuation on the same line\n?',
    ],
    ["SELECT B'1010', X'FF', N'nat', U&'d\\0061t'", 'SELECT B?, X?, N?, U&?'],
    ["SELECT data ? 'key', data ?| array['a'] FROM j", 'SELECT data ? ?, data ?| array[?] FROM j'],
    ['SELECT arr[1:2], x::varchar(10), 1..5', 'SELECT arr[?:?], x::varchar(?), ?.?'],
    ['SELECT ümlaut1, 名前2 FROM t', 'SELECT ümlaut1, 名前2 FROM t'],
    ['SELECT 1; SELECT 2;', 'SELECT ?; SELECT ?;'],
  ])('%j -> %j', (sql, shape) => {
    expect(sqlShape(sql)).toBe(shape);
  });

  it.each([
    ["SELECT 'unterminated", "SELECT 'unterminated"],
    ["SELECT 1, 'x", "SELECT ?, 'x"],
    ['SELECT $a$ never closed', 'SELECT $a$ never closed'],
    ['SELECT 1abc, 2', 'SELECT 1abc, ?'],
    ['SELECT 1e+, 0x', 'SELECT 1e+, 0x'],
    ['SELECT 1__0', 'SELECT 1__0'],
  ])('keeps malformed literals verbatim so they never share a valid shape: %j', (sql, shape) => {
    expect(sqlShape(sql)).toBe(shape);
  });

  it('returns the same string when there is nothing to replace', () => {
    const sql = 'SELECT a FROM t WHERE b = $1';
    expect(sqlShape(sql)).toBe(sql);
  });

  it('prints its speed beside peers in the same run (information, not an assertion)', async () => {
    await loadParser();
    const sql = "SELECT abalance, bid FROM pgbench_accounts WHERE aid = 48213 AND filler <> 'x''y' -- lookup";
    const perCall = (f: () => number, rounds: number): number => {
      let sink = 0;
      for (let i = 0; i < rounds / 10; i++) sink += f();
      const start = process.hrtime.bigint();
      for (let i = 0; i < rounds; i++) sink += f();
      expect(sink).toBeGreaterThan(0);
      return Number(process.hrtime.bigint() - start) / rounds;
    };
    const shape = perCall(() => sqlShape(sql).length, 200_000);
    const bareLoop = perCall(() => countLetters(sql), 200_000);
    const parse = perCall(() => (parseSync(sql) as { stmts: unknown[] }).stmts.length, 5_000);
    console.log(
      `${sql.length}-char query: sqlShape ${shape.toFixed(0)} ns, bare charCodeAt loop ${bareLoop.toFixed(0)} ns, ` +
        `libpg-query parse ${parse.toFixed(0)} ns`,
    );
  });
});

/** The cheapest possible pass over the same text: the floor any scanner is measured against. */
function countLetters(sql: string): number {
  let letters = 0;
  for (let i = 0; i < sql.length; i++) if (sql.charCodeAt(i) > 0x40) letters++;
  return letters;
}
