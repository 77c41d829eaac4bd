// The classifier cache: one entry per query shape, never for results whose literal values matter.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser } from '../../../src/sql/parser.js';
import { classifyCacheStats, classifySql } from '../../../src/router/classify.js';
import { sqlShape } from '../../../src/router/sql-shape.js';

beforeAll(async () => {
  await loadParser();
});

/** Counter deltas of one call, so tests do not depend on what ran before them. */
function cacheEffect(
  sql: string,
  opts: { primaryFunctions: ReadonlySet<string> },
): { hits: number; misses: number } {
  const before = classifyCacheStats();
  classifySql(sql, opts);
  const after = classifyCacheStats();
  return { hits: after.hits - before.hits, misses: after.misses - before.misses };
}

describe('classifier cache', () => {
  it('hits for the same shape with other literals, and hands back the same frozen result', () => {
    const opts = { primaryFunctions: new Set<string>() };
    expect(cacheEffect('SELECT abalance FROM pgbench_accounts WHERE aid = 17', opts)).toEqual({
      hits: 0,
      misses: 1,
    });
    expect(cacheEffect('SELECT abalance FROM pgbench_accounts WHERE aid = 99017', opts)).toEqual({
      hits: 1,
      misses: 0,
    });
    const a = classifySql("SELECT * FROM t WHERE name = 'x' AND id = 1", opts);
    const b = classifySql("SELECT * FROM t WHERE name = 'it''s' AND id = 2", opts);
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('keeps a cache per primaryFunctions set, since the set changes verdicts', () => {
    const none = { primaryFunctions: new Set<string>() };
    const audit = { primaryFunctions: new Set(['audit']) };
    expect(classifySql('SELECT audit(1)', none).access).toBe('read');
    expect(classifySql('SELECT audit(2)', audit).access).toBe('write');
  });

  it('caches SETs by their full text only', () => {
    const opts = { primaryFunctions: new Set<string>() };
    expect(classifySql("SET application_name = 'one'", opts).sets?.[0].sql).toBe(
      'SET application_name TO one',
    );
    expect(classifySql("SET application_name = 'two'", opts).sets?.[0].sql).toBe(
      'SET application_name TO two',
    );
    expect(cacheEffect("SET application_name = 'two'", opts)).toEqual({ hits: 1, misses: 0 });
  });

  it('does not let a literal decide EXPLAIN ANALYZE through the shape cache', () => {
    const opts = { primaryFunctions: new Set<string>() };
    expect(classifySql('EXPLAIN (ANALYZE 0) DELETE FROM t', opts).access).toBe('read');
    expect(classifySql('EXPLAIN (ANALYZE 1) DELETE FROM t', opts).access).toBe('write');
    expect(classifySql("SET transaction_read_only = 'off'", opts).transaction?.readOnly).toBe(false);
    expect(classifySql("SET transaction_read_only = 'on'", opts).transaction?.readOnly).toBe(true);
  });

  it('returns the hint of each text even when the shape entry is shared', () => {
    const opts = { primaryFunctions: new Set<string>() };
    expect(classifySql('/* polyproxy: replica */ SELECT 5', opts).hint).toBe('replica');
    expect(classifySql('/* polyproxy: replica */ SELECT 6', opts).hint).toBe('replica');
    expect(classifySql('/* polyproxy: primary */ SELECT 6', opts).hint).toBe('primary');
  });

  it('classifies every text of one shape the same, cached or not', () => {
    const templates = [
      (v: string) => `SELECT * FROM t WHERE a = ${v} FOR UPDATE`,
      (v: string) => `SELECT set_config(${v}, ${v}, false)`,
      (v: string) => `SELECT nextval(${v})`,
      (v: string) => `WITH x AS (DELETE FROM q WHERE id = ${v} RETURNING *) SELECT * FROM x`,
      (v: string) => `SELECT ${v}; UPDATE t SET a = ${v}`,
      (v: string) => `COPY (SELECT ${v}) TO STDOUT`,
      (v: string) => `SELECT ${v} AS "weird ""name"" 1" FROM t1`,
    ];
    const literals = [
      '1',
      '2.5e3',
      "'x'",
      "'it''s; DELETE FROM t'",
      "E'\\'; DROP'",
      '$$ FOR UPDATE $$',
      "$q$ ' $q$",
      '0x1F',
    ];
    for (const template of templates) {
      const fresh = { primaryFunctions: new Set<string>() };
      const texts = literals.map(template);
      expect(new Set(texts.map(sqlShape)).size).toBe(1);
      const verdicts = texts.map((sql) => classifySql(sql, fresh));
      const uncached = texts.map((sql) => classifySql(sql, { primaryFunctions: new Set<string>() }));
      expect(verdicts.every((v) => v === verdicts[0])).toBe(true);
      expect(uncached).toEqual(texts.map(() => verdicts[0]));
    }
  });

  it('prints the cost of a cache hit beside a parse (information, not an assertion)', () => {
    const opts = { primaryFunctions: new Set<string>() };
    const rounds = 50_000;
    for (let i = 0; i < 5_000; i++)
      classifySql(`SELECT abalance FROM pgbench_accounts WHERE aid = ${i}`, opts);
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++)
      classifySql(`SELECT abalance FROM pgbench_accounts WHERE aid = ${i}`, opts);
    const hit = Number(process.hrtime.bigint() - start) / rounds;
    const parseStart = process.hrtime.bigint();
    for (let i = 0; i < 2_000; i++)
      classifySql(`SELECT abalance FROM pgbench_accounts WHERE aid = ${i}`, { primaryFunctions: new Set() });
    const miss = Number(process.hrtime.bigint() - parseStart) / 2_000;
    console.log(`classifySql: cached ${hit.toFixed(0)} ns, uncached ${miss.toFixed(0)} ns`);
    expect(hit).toBeGreaterThan(0);
  });
});
