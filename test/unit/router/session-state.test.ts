// sessionPinReason: statements that leave state in the server session pin a transaction-pooled client.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser } from '../../../src/sql/parser.js';
import { sessionPinReason } from '../../../src/router/session-state.js';

beforeAll(async () => {
  await loadParser();
});

describe('sessionPinReason', () => {
  it.each([
    ['LISTEN jobs', 'LISTEN'],
    ['PREPARE p AS SELECT 1', 'PREPARE'],
    ['DECLARE c CURSOR WITH HOLD FOR SELECT 1', 'DECLARE ... WITH HOLD'],
    ['CREATE TEMPORARY TABLE x AS SELECT 1', 'temporary table'],
    ['SELECT pg_catalog.PG_ADVISORY_LOCK(1)', 'session advisory lock'],
    ['SELECT * FROM t WHERE pg_try_advisory_lock_shared(id)', 'session advisory lock'],
    ['SELECT 1', null],
    ['SELECT pg_advisory_xact_lock(1)', null],
    ['DECLARE c CURSOR FOR SELECT 1', null],
    ['CREATE TABLE t (a int)', null],
    ['LISTEN (', null],
  ])('%s -> %s', (sql, reason) => {
    expect(sessionPinReason(sql)).toBe(reason);
  });
});
