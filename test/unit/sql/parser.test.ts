// The parser adapter: outcomes for good and bad SQL, the statement-kind helper, and the text cache.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseCacheStats, parseSql, statementKind } from '../../../src/sql/parser.js';

beforeAll(async () => {
  await loadParser();
});

describe('parseSql', () => {
  it('returns one node per top-level statement', () => {
    const r = parseSql('SELECT 1; UPDATE t SET a = 2; LISTEN x');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.statements.map(statementKind)).toEqual(['SelectStmt', 'UpdateStmt', 'ListenStmt']);
  });

  it('says where each statement lies, in UTF-8 bytes (0 length: to the end)', () => {
    const sql = "SELECT 'é'; UPDATE t SET a = 2;LISTEN x";
    const r = parseSql(sql);
    if (!r.ok) throw new Error(r.error);
    const bytes = Buffer.from(sql);
    const texts = r.spans.map((s) =>
      bytes.toString('utf8', s.location, s.length === 0 ? bytes.length : s.location + s.length).trim(),
    );
    expect(texts).toEqual(["SELECT 'é'", 'UPDATE t SET a = 2', 'LISTEN x']);
  });

  it('returns no statements for blank or comment-only text', () => {
    expect(parseSql(' ')).toEqual({ ok: true, statements: [], spans: [] });
    expect(parseSql(';')).toEqual({ ok: true, statements: [], spans: [] });
    expect(parseSql('-- nothing')).toEqual({ ok: true, statements: [], spans: [] });
  });

  it('treats the empty string like blank text (PostgreSQL answers it with EmptyQueryResponse, not an error)', () => {
    expect(parseSql('')).toEqual({ ok: true, statements: [], spans: [] });
  });

  it('returns the parser error for invalid SQL', () => {
    const r = parseSql('SELEC 1');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatch(/syntax error/);
  });

  it('serves repeated text from the cache', () => {
    const sql = `SELECT ${Math.random()} AS cache_probe`;
    const first = parseSql(sql);
    const before = parseCacheStats();
    const second = parseSql(sql);
    const after = parseCacheStats();
    expect(second).toBe(first);
    expect(after.hits).toBe(before.hits + 1);
  });

  it('caches failures too', () => {
    const sql = `SELEC ${Math.random()}`;
    const first = parseSql(sql);
    expect(parseSql(sql)).toBe(first);
  });
});

describe('statementKind', () => {
  it('is the single key of the node, or empty', () => {
    expect(statementKind({ InsertStmt: {} })).toBe('InsertStmt');
    expect(statementKind({})).toBe('');
  });
});
