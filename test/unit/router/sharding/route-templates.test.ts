// Route templates: which literals are lifted into parameters, and that a template is only kept when the
// router answers the same for it as for the statement it was learned from.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseSql } from '../../../../src/sql/parser.js';
import type { Node } from '../../../../src/router/sharding/ast-values.js';
import { routeStatement } from '../../../../src/router/sharding/shard-route.js';
import { ShardMap } from '../../../../src/router/sharding/shard-map.js';
import {
  RouteTemplates,
  templateOf,
  templateParams,
  type RouteTarget,
} from '../../../../src/router/sharding/route-templates.js';

beforeAll(async () => {
  await loadParser();
});

describe('templateOf', () => {
  it.each([
    [
      'SELECT abalance FROM pgbench_accounts WHERE aid = 42;',
      'SELECT abalance FROM pgbench_accounts WHERE aid = $1;',
      ['42'],
    ],
    [
      "SELECT * FROM t WHERE name = 'it''s' AND id = 7",
      'SELECT * FROM t WHERE name = $1 AND id = $2',
      ["it's", '7'],
    ],
    ['SELECT * FROM t WHERE id IN (1, 2,3)', 'SELECT * FROM t WHERE id IN ($1, $2,$3)', ['1', '2', '3']],
    ["INSERT INTO t VALUES (5, 'x')", 'INSERT INTO t VALUES ($1, $2)', ['5', 'x']],
  ])('lifts plain integers and strings: %s', (sql, text, values) => {
    expect(templateOf(sql)).toMatchObject({ text, values });
  });

  it.each([
    ['signed numbers', 'SELECT * FROM t WHERE id = -5 AND k = 2', 'SELECT * FROM t WHERE id = -5 AND k = $1'],
    ['decimals', 'SELECT * FROM t WHERE id = 1.5 AND k = 2', 'SELECT * FROM t WHERE id = 1.5 AND k = $1'],
    [
      'typed strings',
      "SELECT * FROM t WHERE d = date '2020-01-01' AND k = 2",
      "SELECT * FROM t WHERE d = date '2020-01-01' AND k = $1",
    ],
    [
      'escape strings',
      "SELECT * FROM t WHERE s = E'a\\'b' AND k = 2",
      "SELECT * FROM t WHERE s = E'a\\'b' AND k = $1",
    ],
    [
      'prefixed strings',
      "SELECT * FROM t WHERE s = U&'a' AND b = B'01' AND k = 2",
      "SELECT * FROM t WHERE s = U&'a' AND b = B'01' AND k = $1",
    ],
    [
      'hex numbers',
      'SELECT * FROM t WHERE id = 0x1F AND k = 2',
      'SELECT * FROM t WHERE id = 0x1F AND k = $1',
    ],
    [
      'literals in comments and quoted names',
      'SELECT "a 1" FROM t /* 5 */ WHERE k = 2 -- 9',
      'SELECT "a 1" FROM t /* 5 */ WHERE k = $1 -- 9',
    ],
  ])('keeps %s as written', (_what, sql, text) => {
    expect(templateOf(sql)?.text).toBe(text);
  });

  it('gives nothing when nothing can be lifted or the text names parameters already', () => {
    expect(templateOf('SELECT * FROM t')).toBeNull();
    expect(templateOf('SELECT * FROM t WHERE id = $1 AND k = 2')).toBeNull();
    expect(templateOf('SELECT * FROM t WHERE k = 2 AND id = $1')).toBeNull();
  });

  it('tells a string literal from a number in the key, so the two never share a template', () => {
    expect(templateOf("SELECT * FROM t WHERE id = '5'")!.key).not.toBe(
      templateOf('SELECT * FROM t WHERE id = 5')!.key,
    );
  });
});

describe('RouteTemplates', () => {
  const map = new ShardMap({ tables: { t: 'id' }, reference: [], default_shard: 0, algorithm: 'hash' }, 3);
  const meta = () => ({ keyType: 'int' as const, columns: ['id', 'k'] });
  const parse = (text: string) => {
    const p = parseSql(text);
    return p.ok && p.statements.length === 1 ? (p.statements[0] as Node) : null;
  };
  const route = (stmt: Node, params: (n: number) => string | null | undefined): RouteTarget | null => {
    const r = routeStatement(stmt, { map, meta, params });
    return r.kind === 'single' ? { shard: r.shard, write: r.write } : null;
  };
  const original = (sql: string) => route(parse(sql)!, () => undefined);

  it('keeps a template that routes every key as the statement itself does', () => {
    const templates = new RouteTemplates();
    const first = templateOf('SELECT k FROM t WHERE id = 1')!;
    templates.learn(first, original('SELECT k FROM t WHERE id = 1')!, parse, route);
    for (let id = 0; id < 200; id++) {
      const t = templateOf(`SELECT k FROM t WHERE id = ${id}`)!;
      const learned = templates.get(t);
      expect(learned).toBeTruthy();
      expect(route(learned!.stmt, templateParams(t))).toEqual(original(`SELECT k FROM t WHERE id = ${id}`));
    }
  });

  it('refuses a template the router answers differently for', () => {
    const templates = new RouteTemplates();
    const t = templateOf('SELECT k FROM t WHERE id = 3')!;
    const target = original('SELECT k FROM t WHERE id = 3')!;
    templates.learn(t, { ...target, shard: (target.shard + 1) % 3 }, parse, route);
    expect(templates.get(t)).toBeNull();
  });

  it('refuses a template that does not parse (a literal where the grammar wants a constant)', () => {
    const templates = new RouteTemplates();
    const sql = 'SELECT k FROM t WHERE id = 3 AND k > now()::timestamp(3)';
    const t = templateOf(sql)!;
    expect(t.text).toContain('timestamp($2)');
    templates.learn(t, original(sql)!, parse, route);
    expect(templates.get(t)).toBeNull();
  });
});
