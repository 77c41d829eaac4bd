// Tables, writes, functions and volatility that plugins and the cache learn from the classifier.
import { beforeAll, describe, expect, it } from 'vitest';
import { classifySql } from '../../../src/router/classify.js';
import { loadParser } from '../../../src/sql/parser.js';

const opts = { primaryFunctions: new Set<string>() };
const objects = (sql: string) => classifySql(sql, opts).objects;

beforeAll(() => loadParser());

describe('statement objects', () => {
  it('lists relations as written, lower-case, without CTE names', () => {
    const o = objects('WITH x AS (SELECT 1) SELECT * FROM Users u JOIN app.Orders o ON true, x');
    expect(o?.tables.slice().sort()).toEqual(['app.orders', 'users']);
    expect(o?.writes).toEqual([]);
    expect(o?.volatile).toBe(false);
  });

  it('names DML targets as writes, including those in writable CTEs', () => {
    expect(objects('INSERT INTO t (a) SELECT a FROM s')?.writes).toEqual(['t']);
    expect(objects('WITH d AS (DELETE FROM q RETURNING *) SELECT * FROM d')?.writes).toEqual(['q']);
    expect(objects('UPDATE s.t SET a = 1')?.writes).toEqual(['s.t']);
    expect(objects('COPY t FROM STDIN')?.writes).toEqual(['t']);
  });

  it('treats DDL, CALL and side-effect functions as writing anything', () => {
    expect(objects('ALTER TABLE t ADD COLUMN b int')?.writes).toContain('*');
    expect(objects('TRUNCATE t')?.writes).toContain('*');
    expect(objects('SELECT pg_advisory_lock(1)')?.writes).toContain('*');
    expect(objects('SELECT 1')?.writes).toEqual([]);
  });

  it('spots volatile calls and SQL value functions', () => {
    expect(objects('SELECT now()')?.volatile).toBe(true);
    expect(objects('SELECT CURRENT_TIMESTAMP')?.volatile).toBe(true);
    expect(objects('SELECT pg_catalog.random()')?.volatile).toBe(true);
    expect(objects('SELECT lower(a) FROM t')?.volatile).toBe(false);
    expect(objects("SELECT * FROM cypher('g', $$ MATCH (n) RETURN n $$) AS (n agtype)")?.functions).toEqual([
      'cypher',
    ]);
  });

  it('keeps plugin directives apart from route hints', () => {
    expect(classifySql('/* polyproxy: cache ttl=60 */ SELECT 1', opts).directive).toBe('cache ttl=60');
    expect(classifySql('-- polyproxy: replica\nSELECT 1', opts).directive).toBeUndefined();
    expect(classifySql('/* polyproxy: nocache */ SELECT 2', opts).hint).toBeUndefined();
  });
});

describe('statement targets', () => {
  it('counts a DML or COPY target among the tables', () => {
    expect(objects("INSERT INTO kv.entries (key) VALUES ('a')")?.tables).toEqual(['kv.entries']);
    expect(objects('DELETE FROM t WHERE a IN (SELECT a FROM s)')?.tables.slice().sort()).toEqual(['s', 't']);
    expect(objects('COPY t FROM STDIN')?.tables).toEqual(['t']);
  });
});
