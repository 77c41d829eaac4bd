// Proxy directives PostgreSQL never sees: leading-comment hints, EXPLAIN ROUTE, and multi-statement texts.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser } from '../../../src/sql/parser.js';
import { classifySql, type StatementInfo } from '../../../src/router/classify.js';

const opts = { primaryFunctions: new Set<string>() };
/** The routing verdict alone: the tables and functions a text touches are tested in statement-objects.test.ts. */
const withoutObjects = ({ objects: _objects, ...verdict }: StatementInfo) => verdict;

beforeAll(async () => {
  await loadParser();
});

describe('routing hints', () => {
  it.each([
    ['/* polyproxy: primary */ SELECT 1', 'primary'],
    ['/*polyproxy:replica*/SELECT 1', 'replica'],
    ['  /* POLYPROXY : Replica */\nSELECT 1', 'replica'],
    ['-- polyproxy: replica\nSELECT * FROM t', 'replica'],
    ['/* app=web */ /* polyproxy: primary, reason=fresh */ SELECT 1', 'primary'],
    ['-- report\n/* polyproxy: replica */ SELECT 1', 'replica'],
    ['/* outer /* nested */ polyproxy: primary */ SELECT 1', undefined],
    ['SELECT 1 /* polyproxy: primary */', undefined],
    ['SELECT 1 -- polyproxy: replica', undefined],
    ['/* polyproxy: everywhere */ SELECT 1', undefined],
    ["SELECT '/* polyproxy: primary */'", undefined],
  ])('%j -> %s', (sql, hint) => {
    expect(classifySql(sql, opts).hint).toBe(hint);
  });

  it('reports the hint beside the statement verdict, which it does not change', () => {
    const info = classifySql('/* polyproxy: replica */ INSERT INTO t VALUES (1)', opts);
    expect(withoutObjects(info)).toEqual({
      access: 'write',
      reason: 'insert',
      hint: 'replica',
      statementCount: 1,
    });
  });

  it('treats a text of only comments as empty', () => {
    expect(withoutObjects(classifySql('/* polyproxy: primary */ -- nothing', opts))).toEqual({
      access: 'read',
      reason: 'empty',
      statementCount: 0,
      hint: 'primary',
    });
    expect(withoutObjects(classifySql('', opts))).toEqual({
      access: 'read',
      reason: 'empty',
      statementCount: 0,
    });
    expect(withoutObjects(classifySql(' ; ', opts))).toEqual({
      access: 'read',
      reason: 'empty',
      statementCount: 0,
    });
  });
});

describe('EXPLAIN ROUTE', () => {
  it.each([
    ['EXPLAIN ROUTE SELECT * FROM t WHERE id = 1', 'SELECT * FROM t WHERE id = 1'],
    ['explain route\n  UPDATE t SET a = 1;  ', 'UPDATE t SET a = 1;'],
    ['/* polyproxy: primary */ EXPLAIN ROUTE SELECT 1', 'SELECT 1'],
    ['EXPLAIN ROUTE SELECT 1; SELECT 2', 'SELECT 1; SELECT 2'],
    ['EXPLAIN ROUTE', ''],
    ['Explain Route select 1', 'select 1'],
    ['  -- why\n eXPLAIN ROUTE SELECT 1', 'SELECT 1'],
  ])('%j -> %j', (sql, inner) => {
    expect(classifySql(sql, opts)).toMatchObject({
      access: 'read',
      reason: 'explain-route',
      explainRoute: inner,
      statementCount: 1,
    });
  });

  it('leaves ordinary EXPLAIN and tables named route alone', () => {
    expect(classifySql('EXPLAIN SELECT * FROM route', opts).explainRoute).toBeUndefined();
    expect(classifySql('EXPLAIN routes', opts).explainRoute).toBeUndefined();
  });
});

describe('multi-statement texts', () => {
  it.each([
    ['SELECT 1; SELECT 2', 'read', 'read-only-select', 2],
    ['SELECT 1; INSERT INTO t VALUES (1); DELETE FROM t', 'write', 'insert', 3],
    ["SHOW work_mem; SELECT nextval('s')", 'write', 'side-effect-function:nextval', 2],
    ['SET search_path = a; SELECT * FROM t FOR UPDATE', 'write', 'locking-select', 2],
    ['SELECT 1; SELEC 2', 'write', 'unparseable', 1],
    ['BEGIN; SELECT 1; COMMIT;', 'write', 'transaction-begin', 3],
  ])('%j -> %s %s', (sql, access, reason, count) => {
    expect(classifySql(sql, opts)).toMatchObject({ access, reason, statementCount: count });
  });
});

describe('session pinning', () => {
  it.each([
    ['LISTEN jobs', 'LISTEN'],
    ['PREPARE p AS SELECT 1', 'PREPARE'],
    ['DECLARE c CURSOR WITH HOLD FOR SELECT 1', 'DECLARE ... WITH HOLD'],
    ['CREATE TEMP TABLE scratch (a int)', 'temporary table'],
    ['SELECT pg_advisory_lock(7)', 'session advisory lock'],
  ])('%s pins the client (%s)', (sql, pin) => {
    expect(classifySql(sql, opts).pin).toBe(pin);
  });

  it('does not pin for transaction-scoped state', () => {
    expect(classifySql('SELECT pg_advisory_xact_lock(7)', opts).pin).toBeUndefined();
    expect(classifySql('DECLARE c CURSOR FOR SELECT 1', opts).pin).toBeUndefined();
  });
});
