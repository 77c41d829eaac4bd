// The statement caches stay within their budgets: long texts are not cached, many distinct ones evict older ones.
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyCacheStats, classifiedByShape, classifySql } from '../../../src/router/classify.js';
import { RouteTemplates, templateOf } from '../../../src/router/sharding/route-templates.js';
import { loadParser, parseCacheStats, parseSql } from '../../../src/sql/parser.js';
import { CACHE_BYTES, MAX_CACHED_TEXT } from '../../../src/sql/statement-budget.js';

const opts = { primaryFunctions: new Set<string>() };

/** An IN list of `count` integers; `salt` makes the numbers (and with another count, the shape) distinct. */
function inList(count: number, salt: number): string {
  const values = Array.from({ length: count }, (_, i) => 100000 + ((i * 7919 + salt) % 900000));
  return `SELECT * FROM t WHERE id IN (${values.join(',')})`;
}

beforeAll(async () => {
  await loadParser();
});

describe('parse cache', () => {
  it('does not cache a statement longer than MAX_CACHED_TEXT', () => {
    const sql = inList(Math.ceil(MAX_CACHED_TEXT / 7) + 10, 1);
    expect(sql.length).toBeGreaterThan(MAX_CACHED_TEXT);
    const first = parseSql(sql);
    expect(first.ok).toBe(true);
    const second = parseSql(sql);
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
  });

  it('caches a statement just under the limit', () => {
    const sql = inList(Math.floor(MAX_CACHED_TEXT / 8), 2);
    expect(sql.length).toBeLessThanOrEqual(MAX_CACHED_TEXT);
    expect(parseSql(sql)).toBe(parseSql(sql));
  });

  it('holds no more than its byte budget after many distinct statements near the limit', () => {
    for (let i = 0; i < 60; i++) parseSql(inList(7000 + i, i));
    const stats = parseCacheStats();
    expect(stats.bytes).toBeLessThanOrEqual(CACHE_BYTES.parse);
    expect(stats.bytes).toBeGreaterThan(CACHE_BYTES.parse / 2);
  });
});

describe('classifier caches', () => {
  it('classifies a long statement every time, keeping none of its text', () => {
    const sql = inList(Math.ceil(MAX_CACHED_TEXT / 7) + 10, 3);
    const before = classifyCacheStats();
    const info = classifySql(sql, opts);
    expect(info.access).toBe('read');
    expect(classifySql(sql, opts)).toEqual(info);
    expect(classifyCacheStats().misses).toBe(before.misses + 2);
    expect(classifiedByShape(sql, info, opts)).toBe(false);
  });

  it('still serves a short statement of a known shape from the cache', () => {
    const info = classifySql('SELECT * FROM t WHERE id = 1', opts);
    const before = classifyCacheStats();
    expect(classifySql('SELECT * FROM t WHERE id = 2', opts)).toBe(info);
    expect(classifyCacheStats().hits).toBe(before.hits + 1);
    expect(classifiedByShape('SELECT * FROM t WHERE id = 3', info, opts)).toBe(true);
  });
});

describe('route templates', () => {
  const route = () => ({ shard: 0, write: false });
  const parse = (text: string) => {
    const parsed = parseSql(text);
    return parsed.ok ? parsed.statements[0] : null;
  };

  it('learns no template longer than MAX_CACHED_TEXT, and does not even parse it', () => {
    const templates = new RouteTemplates();
    const t = templateOf(inList(Math.ceil(MAX_CACHED_TEXT / 5), 4))!;
    expect(t.key.length).toBeGreaterThan(MAX_CACHED_TEXT);
    let parsed = 0;
    templates.learn(t, route(), (text) => (parsed++, parse(text)), route);
    expect([templates.get(t), parsed]).toEqual([undefined, 0]);
  });

  it('learns a short one', () => {
    const templates = new RouteTemplates();
    const t = templateOf('SELECT * FROM t WHERE id = 7')!;
    templates.learn(t, route(), parse, route);
    expect(templates.get(t)?.stmt).toBeTruthy();
  });
});
