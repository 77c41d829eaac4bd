// A Query matched against the last template's shape gets exactly the template a scan of its text gives.
import { describe, expect, it } from 'vitest';
import { TemplateShape } from '../../../../src/frontend/rounds/template-shape.js';
import { templateOf } from '../../../../src/router/sharding/route-templates.js';

/** A shape that has seen `first`'s template. */
function after(first: string): TemplateShape {
  const shape = new TemplateShape();
  shape.remember(templateOf(first)!);
  return shape;
}

describe('TemplateShape', () => {
  const point = 'SELECT abalance FROM pgbench_accounts WHERE aid = 17;';

  it('matches the same text with other numbers, as a scan does', () => {
    const shape = after(point);
    for (const sql of [
      'SELECT abalance FROM pgbench_accounts WHERE aid = 42;',
      'SELECT abalance FROM pgbench_accounts WHERE aid = 007;',
      'SELECT abalance FROM pgbench_accounts WHERE aid = 123456789012345678901234;',
    ])
      expect(shape.match(sql)).toEqual(templateOf(sql));
  });

  it('matches several numbers, a number at the end of the text and numbers before casts', () => {
    const cases = [
      ['SELECT * FROM t WHERE k = 1 AND v > 2 LIMIT 3', 'SELECT * FROM t WHERE k = 9 AND v > 80 LIMIT 700'],
      ['SELECT * FROM t WHERE k = 1', 'SELECT * FROM t WHERE k = 23'],
      ['SELECT * FROM t WHERE k = 1::bigint', 'SELECT * FROM t WHERE k = 5::bigint'],
      ['SELECT * FROM t WHERE k IN (1,2)', 'SELECT * FROM t WHERE k IN (3,44)'],
    ];
    for (const [first, next] of cases) expect(after(first).match(next)).toEqual(templateOf(next));
  });

  it('does not match another text, a non-integer in a number’s place, or a longer or shorter text', () => {
    const shape = after(point);
    for (const sql of [
      'SELECT abalance FROM pgbench_accounts WHERE aid = -4;',
      'SELECT abalance FROM pgbench_accounts WHERE aid = 4.5;',
      'SELECT abalance FROM pgbench_accounts WHERE aid = $1;',
      "SELECT abalance FROM pgbench_accounts WHERE aid = '4';",
      'SELECT abalance FROM pgbench_accounts WHERE aid = ;',
      'SELECT abalance FROM pgbench_accounts WHERE aid = 4',
      'SELECT abalance FROM pgbench_accounts WHERE aid = 4; ',
      'SELECT bbalance FROM pgbench_accounts WHERE aid = 4;',
    ])
      expect(shape.match(sql)).toBeNull();
  });

  it('keeps no shape for a template with a string, or a number followed by a character it could join', () => {
    for (const [first, next] of [
      ["SELECT * FROM t WHERE k = 1 AND s = 'a'", "SELECT * FROM t WHERE k = 2 AND s = 'a'"],
      ['SELECT 1||k FROM t', 'SELECT 2||k FROM t'],
    ]) {
      expect(templateOf(first)).not.toBeNull();
      expect(after(first).match(next)).toBeNull();
    }
  });

  it('follows the newest template', () => {
    const shape = after(point);
    shape.remember(templateOf('SELECT * FROM t WHERE k = 1;')!);
    expect(shape.match('SELECT abalance FROM pgbench_accounts WHERE aid = 42;')).toBeNull();
    expect(shape.match('SELECT * FROM t WHERE k = 8;')).toEqual(templateOf('SELECT * FROM t WHERE k = 8;'));
  });
});
