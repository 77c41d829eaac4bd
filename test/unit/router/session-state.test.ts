// sessionPinReason: statements that leave state in the server session pin the client; look-alikes do not.
import { beforeAll, describe, expect, it } from 'vitest';
import { sessionPinReason } from '../../../src/router/session-state.js';
import { loadParser } from '../../../src/sql/parser.js';

beforeAll(async () => {
  await loadParser();
});

describe('sessionPinReason pins', () => {
  it.each([
    ['LISTEN events', 'LISTEN'],
    ['listen "Mixed Case"', 'LISTEN'],
    ['PREPARE q(int) AS SELECT $1', 'PREPARE'],
    ['prepare q AS UPDATE t SET a = 1', 'PREPARE'],
    ['DECLARE c CURSOR WITH HOLD FOR SELECT * FROM t', 'DECLARE ... WITH HOLD'],
    ['DECLARE c SCROLL CURSOR WITH HOLD FOR SELECT 1', 'DECLARE ... WITH HOLD'],
    ['DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT 1', 'DECLARE ... WITH HOLD'],
    ['DECLARE c BINARY CURSOR WITH HOLD FOR SELECT 1', 'DECLARE ... WITH HOLD'],
    ['CREATE TEMP TABLE t (a int)', 'temporary table'],
    ['CREATE TEMPORARY TABLE IF NOT EXISTS t (a int)', 'temporary table'],
    ['create temp table t as select 1 as a', 'temporary table'],
    ['CREATE TEMP VIEW v AS SELECT 1', 'temporary table'],
    ['CREATE TEMP SEQUENCE s', 'temporary table'],
    ['SELECT pg_advisory_lock(1)', 'session advisory lock'],
    ['SELECT pg_advisory_lock(1, 2)', 'session advisory lock'],
    ['SELECT PG_ADVISORY_LOCK(42)', 'session advisory lock'],
    ['SELECT pg_catalog.pg_advisory_lock(42)', 'session advisory lock'],
    ['SELECT pg_advisory_lock_shared(1)', 'session advisory lock'],
    ['SELECT pg_try_advisory_lock(1)', 'session advisory lock'],
    ['SELECT pg_try_advisory_lock_shared(1)', 'session advisory lock'],
    ['SELECT id FROM jobs WHERE pg_try_advisory_lock(id) LIMIT 1', 'session advisory lock'],
    ['WITH l AS (SELECT pg_advisory_lock(7)) SELECT * FROM l', 'session advisory lock'],
    ['SELECT * FROM (SELECT pg_advisory_lock(7)) s', 'session advisory lock'],
    ['SELECT 1; LISTEN events', 'LISTEN'],
  ])('%s → %s', (sql, reason) => {
    expect(sessionPinReason(sql)).toBe(reason);
  });
});

describe('sessionPinReason does not pin', () => {
  it.each([
    'SELECT * FROM users WHERE id = 1',
    'UPDATE users SET name = $1 WHERE id = $2',
    'INSERT INTO t VALUES (1)',
    'BEGIN',
    'DECLARE c CURSOR FOR SELECT * FROM t',
    'DECLARE c CURSOR WITHOUT HOLD FOR SELECT 1',
    'DECLARE c SCROLL CURSOR FOR SELECT 1',
    'CREATE TABLE t (a int)',
    'CREATE UNLOGGED TABLE t (a int)',
    'CREATE TABLE t AS SELECT 1',
    'CREATE VIEW v AS SELECT 1',
    'SELECT pg_advisory_xact_lock(1)',
    'SELECT pg_try_advisory_xact_lock(1)',
    'SELECT pg_advisory_xact_lock_shared(1)',
    'SELECT pg_advisory_unlock(1)',
    'SELECT pg_advisory_unlock_all()',
    'UNLISTEN *',
    'DEALLOCATE ALL',
    'EXECUTE q(1)',
    "PREPARE TRANSACTION 'tx1'",
  ])('%s', (sql) => {
    expect(sessionPinReason(sql)).toBeNull();
  });

  it.each([
    "SELECT 'LISTEN to this'",
    "SELECT 'pg_advisory_lock(1)'",
    "INSERT INTO notes (body) VALUES ('CREATE TEMP TABLE x (a int); PREPARE p AS SELECT 1')",
    'SELECT temperature, holder FROM readings',
    'SELECT * FROM listeners WHERE prepared_at > now()',
    'SELECT "LISTEN", "hold", "temp" FROM t',
    'UPDATE temp_orders SET on_hold = true',
    'CREATE TABLE template_holds (a int)',
    'SELECT pg_advisory_lock FROM locks',
    'SELECT 1 -- LISTEN x; PREPARE p AS SELECT 1',
    'SELECT 1 /* CREATE TEMP TABLE t (a int) */',
    'SELECT $$LISTEN x$$',
    'SELECT my_schema.not_pg_advisory_lock(1)',
  ])('trigger words only in strings, identifiers or comments: %s', (sql) => {
    expect(sessionPinReason(sql)).toBeNull();
  });

  it('returns null for SQL the parser rejects', () => {
    expect(sessionPinReason('LISTEN')).toBeNull();
    expect(sessionPinReason('PREPARE AS')).toBeNull();
  });
});

describe('sessionPinReason less common statements that create session state', () => {
  it('SELECT ... INTO TEMP creates a temporary table', () => {
    // A raw-parse SelectStmt with an intoClause; PostgreSQL turns it into CREATE TABLE AS only later.
    expect(
      sessionPinReason("SELECT * INTO TEMP recent FROM orders WHERE created_at > now() - interval '1 day'"),
    ).not.toBeNull();
    expect(sessionPinReason('SELECT 1 AS a INTO TEMPORARY TABLE t')).not.toBeNull();
  });

  it('CREATE TABLE pg_temp.name creates a temporary table', () => {
    // PostgreSQL 15: `CREATE TABLE pg_temp.zz (a int)` gives pg_class.relpersistence = 't'.
    expect(sessionPinReason('CREATE TABLE pg_temp.scratch (a int)')).not.toBeNull();
  });

  it('a session advisory lock taken inside CREATE TABLE AS still pins', () => {
    expect(sessionPinReason('CREATE TABLE lock_log AS SELECT pg_advisory_lock(1) AS locked')).not.toBeNull();
  });

  it('EXPLAIN ANALYZE runs the statement, so it pins like the statement itself', () => {
    expect(sessionPinReason('EXPLAIN ANALYZE CREATE TEMP TABLE t AS SELECT 1')).not.toBeNull();
  });
});

describe('sessionPinReason session-level settings', () => {
  it.each([
    "SET statement_timeout = '5s'",
    'SET search_path = tenant_42, public',
    'SET SESSION search_path TO tenant_42',
    'SET ROLE reporting',
    'SET SESSION AUTHORIZATION alice',
    "SET LOCAL statement_timeout = '5s'",
    "SELECT set_config('statement_timeout', '5s', true)",
  ])('%s does not pin: the session replays SETs on every server connection', (sql) => {
    expect(sessionPinReason(sql)).toBeNull();
  });

  it('set_config for the session pins: its value may be computed, so it cannot be replayed', () => {
    expect(sessionPinReason("SELECT set_config('statement_timeout', '5s', false)")).not.toBeNull();
  });
});
