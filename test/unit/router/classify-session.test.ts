// SET/RESET extraction with replay SQL, the route override, and transaction control in order.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseSql } from '../../../src/sql/parser.js';
import { classifySql, type StatementInfo } from '../../../src/router/classify.js';

const opts = { primaryFunctions: new Set<string>() };
/** The routing verdict alone: the tables and functions a text touches are tested in statement-objects.test.ts. */
const withoutObjects = ({ objects: _objects, ...verdict }: StatementInfo) => verdict;

beforeAll(async () => {
  await loadParser();
});

describe('session SETs', () => {
  it.each([
    ['SET search_path TO app, public', 'search_path', 'SET search_path TO app, public'],
    ['set SEARCH_PATH = "$user", public', 'search_path', "SET search_path TO '$user', public"],
    ["SET SESSION statement_timeout = '5s'", 'statement_timeout', "SET statement_timeout TO '5s'"],
    ['SET work_mem = 65536', 'work_mem', 'SET work_mem TO 65536'],
    ['SET extra_float_digits TO -3', 'extra_float_digits', 'SET extra_float_digits TO -3'],
    ["SET TIME ZONE 'UTC'", 'timezone', "SET TIME ZONE 'UTC'"],
    ["SET NAMES 'UTF8'", 'client_encoding', "SET client_encoding TO 'UTF8'"],
    ['SET ROLE reporting', 'role', 'SET role TO reporting'],
    ["SET app.tenant = 'acme corp'", 'app.tenant', `SET "app.tenant" TO 'acme corp'`],
  ])('%s -> %s', (sql, name, replay) => {
    const info = classifySql(sql, opts);
    expect(info).toMatchObject({ access: 'read', reason: 'set', statementCount: 1 });
    expect(info.sets).toEqual([{ name, sql: replay }]);
  });

  it.each([
    ["SET application_name = 'it''s'", "SET application_name = 'it''s'"],
    ["SET application_name = 'select'", "SET application_name = 'select'"],
    ["SET application_name = 'a'' ; DROP TABLE t; --'", "SET application_name = 'a'' ; DROP TABLE t; --'"],
    ["SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE", "SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE"],
  ])(
    'falls back to the client text when the deparser output does not parse back the same: %s',
    (sql, replay) => {
      const info = classifySql(sql, opts);
      expect(info.sets).toEqual([{ name: expect.any(String) as string, sql: replay }]);
      const reparsed = parseSql(info.sets![0].sql!);
      expect(reparsed.ok && reparsed.statements.length).toBe(1);
    },
  );

  it('takes the statement text out of a multi-statement string, by UTF-8 byte offsets', () => {
    const info = classifySql("SELECT 'ünïcode'; SET application_name = 'x''y'  ; SELECT 1", opts);
    expect(info.sets).toEqual([{ name: 'application_name', sql: "SET application_name = 'x''y'" }]);
    expect(info.statementCount).toBe(3);
  });

  it('maps RESET and SET ... TO DEFAULT to null', () => {
    expect(classifySql('RESET search_path', opts).sets).toEqual([{ name: 'search_path', sql: null }]);
    expect(classifySql('SET work_mem TO DEFAULT', opts).sets).toEqual([{ name: 'work_mem', sql: null }]);
    expect(classifySql('RESET TIME ZONE', opts).sets).toEqual([{ name: 'timezone', sql: null }]);
  });

  it('keeps SET LOCAL out of the session settings', () => {
    expect(withoutObjects(classifySql("SET LOCAL search_path TO 'x'", opts))).toEqual({
      access: 'read',
      reason: 'set-local',
      statementCount: 1,
    });
  });

  it('RESET ALL and DISCARD ALL reset everything, and only later SETs survive', () => {
    const info = classifySql('SET a.b = 1; RESET ALL; SET search_path = x; DISCARD PLANS', opts);
    expect(info.resetAll).toBe(true);
    expect(info.sets).toEqual([{ name: 'search_path', sql: 'SET search_path TO x' }]);
    expect(classifySql('DISCARD ALL', opts)).toMatchObject({
      access: 'read',
      reason: 'discard',
      resetAll: true,
      routeOverride: 'auto',
    });
  });

  it('splits SET SESSION CHARACTERISTICS into the default_transaction_* settings', () => {
    const info = classifySql(
      'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY, NOT DEFERRABLE',
      opts,
    );
    expect(info.sets).toEqual([
      {
        name: 'default_transaction_isolation',
        sql: "SET default_transaction_isolation TO 'repeatable read'",
      },
      { name: 'default_transaction_read_only', sql: 'SET default_transaction_read_only TO on' },
      { name: 'default_transaction_deferrable', sql: 'SET default_transaction_deferrable TO off' },
    ]);
  });

  it('leaves SET ... FROM CURRENT without a replay: the value does not change', () => {
    expect(withoutObjects(classifySql('SET work_mem FROM CURRENT', opts))).toEqual({
      access: 'read',
      reason: 'set',
      statementCount: 1,
    });
  });
});

describe('SET polyproxy.route', () => {
  it.each([
    ['SET polyproxy.route = replica', 'replica'],
    ["SET polyproxy.route TO 'primary'", 'primary'],
    ['SET polyproxy.route = primary', 'primary'],
    ['set session POLYPROXY.ROUTE to Primary;', 'primary'],
    ['SET polyproxy.route = auto', 'auto'],
    ['set polyproxy.route = replica', 'replica'],
    ['sEt SESSION polyproxy.route TO primary', 'primary'],
    ['RESET polyproxy.route', 'auto'],
    ['SET polyproxy.route TO DEFAULT', 'auto'],
    ['/* polyproxy: replica */ SET polyproxy.route = primary', 'primary'],
  ])('%s -> %s', (sql, route) => {
    const info = classifySql(sql, opts);
    expect(info).toMatchObject({ access: 'read', reason: 'route-override', routeOverride: route });
    expect(info.sets).toBeUndefined();
  });

  it('works inside a multi-statement string, the last one winning', () => {
    const info = classifySql(
      "SET polyproxy.route = 'primary'; SELECT 1; SET polyproxy.route = replica",
      opts,
    );
    expect(info).toMatchObject({ access: 'read', routeOverride: 'replica', statementCount: 3 });
  });

  it('flags an unknown value instead of overriding', () => {
    const info = classifySql("SET polyproxy.route = 'sideways'", opts);
    expect(withoutObjects(info)).toEqual({
      access: 'read',
      reason: 'route-override-invalid',
      statementCount: 1,
    });
  });
});

describe('transaction control', () => {
  it.each([
    ['BEGIN', { kind: 'begin', readOnly: false }, 'write'],
    ['BEGIN READ ONLY', { kind: 'begin', readOnly: true }, 'read'],
    [
      'START TRANSACTION READ ONLY, ISOLATION LEVEL REPEATABLE READ',
      { kind: 'begin', readOnly: true },
      'read',
    ],
    ['BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY', { kind: 'begin', readOnly: true }, 'write'],
    ['START TRANSACTION READ WRITE', { kind: 'begin', readOnly: false, readWrite: true }, 'write'],
    ['COMMIT', { kind: 'commit', readOnly: false }, 'read'],
    ['COMMIT AND CHAIN', { kind: 'commit', readOnly: false, chain: true }, 'read'],
    ['ROLLBACK', { kind: 'rollback', readOnly: false }, 'read'],
    ['SAVEPOINT a', { kind: 'other', readOnly: false }, 'read'],
    ['SET TRANSACTION READ ONLY', { kind: 'other', readOnly: true }, 'read'],
    ['SET TRANSACTION READ WRITE', { kind: 'other', readOnly: false, readWrite: true }, 'read'],
    ['SET TRANSACTION ISOLATION LEVEL REPEATABLE READ', { kind: 'other', readOnly: false }, 'read'],
    ['SET transaction_read_only = on', { kind: 'other', readOnly: true }, 'read'],
    ['SET transaction_read_only = off', { kind: 'other', readOnly: false, readWrite: true }, 'read'],
    ["SET transaction_isolation = 'serializable'", { kind: 'other', readOnly: false }, 'write'],
    ["PREPARE TRANSACTION 'g'", { kind: 'commit', readOnly: false }, 'write'],
  ])('%s', (sql, transaction, access) => {
    const info = classifySql(sql, opts);
    expect(info.transaction).toEqual(transaction);
    expect(info.transactions).toEqual([transaction]);
    expect(info.access).toBe(access);
  });

  it('lists every transaction statement in order and reports the one that decides the block', () => {
    const info = classifySql('BEGIN READ ONLY; SAVEPOINT s; SELECT 1; RELEASE s; COMMIT; SELECT 2', opts);
    expect(info.transactions?.map((t) => t.kind)).toEqual(['begin', 'other', 'other', 'commit']);
    expect(info.transaction).toEqual({ kind: 'commit', readOnly: false });
    expect(info).toMatchObject({ access: 'read', reason: 'transaction-begin', statementCount: 6 });
  });

  it('makes the whole text a write when one statement writes, with that statement as the reason', () => {
    const info = classifySql('BEGIN READ ONLY; SELECT 1; UPDATE t SET a = 1; COMMIT', opts);
    expect(info).toMatchObject({
      access: 'write',
      reason: 'update',
      transaction: { kind: 'commit', readOnly: false },
    });
  });

  it('leaves transaction out when the text has none', () => {
    expect(withoutObjects(classifySql('SELECT 1', opts))).toEqual({
      access: 'read',
      reason: 'read-only-select',
      statementCount: 1,
    });
  });
});
