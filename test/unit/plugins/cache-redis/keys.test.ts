// Entry keys change with every input that shapes a result, and only with those; counters group per database.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  databaseKeys,
  entryDigest,
  versionedTable,
  versionedTables,
} from '../../../../src/plugins/builtin/cache-redis/keys.js';
import { loadParser } from '../../../../src/sql/parser.js';
import { makeStatement, type StatementOptions } from './harness.js';

beforeAll(() => loadParser());

const sql = 'SELECT * FROM users WHERE id = $1';
const base: StatementOptions = {
  database: 'app',
  user: 'alice',
  params: ['1'],
  paramTypes: [23],
  resultFormats: [0],
  settings: { search_path: 'public', timezone: 'UTC' },
};
const key = (opts: StatementOptions, text = sql) => entryDigest(makeStatement(text, { ...base, ...opts }));

describe('entry digest', () => {
  it('is a stable SHA-256 in hex', () => {
    expect(key({})).toMatch(/^[0-9a-f]{64}$/);
    expect(key({})).toBe(key({}));
  });

  it.each<[string, StatementOptions, string?]>([
    ['database', { database: 'other' }],
    ['user', { user: 'bob' }],
    ['a setting value', { settings: { search_path: 'app', timezone: 'UTC' } }],
    ['a setting name', { settings: { search_path: 'public', datestyle: 'UTC' } }],
    ['one setting more', { settings: { search_path: 'public', timezone: 'UTC', datestyle: 'ISO' } }],
    ['statement text', {}, 'SELECT * FROM users WHERE id = $1 '],
    ['a parameter', { params: ['2'] }],
    ['parameter count', { params: ['1', '1'] }],
    ['parameter types', { paramTypes: [20] }],
    ['result formats', { resultFormats: [1] }],
    ['a missing result format list', { resultFormats: [] }],
  ])('changes with %s', (_, opts, text) => {
    expect(key(opts, text)).not.toBe(key({}));
  });

  it('tells a NULL parameter from an empty string, and from the text "null"', () => {
    const keys = [null, '', 'null', '\u0000'].map((p) => key({ params: [p] }));
    expect(new Set(keys).size).toBe(4);
  });

  it('does not run fields together', () => {
    expect(key({ params: ['ab', 'c'] })).not.toBe(key({ params: ['a', 'bc'] }));
    expect(key({ database: 'ab', user: 'c' })).not.toBe(key({ database: 'a', user: 'bc' }));
    expect(key({ settings: { a: 'bc' } })).not.toBe(key({ settings: { ab: 'c' } }));
  });

  it('ignores the order settings were set in', () => {
    expect(key({ settings: { timezone: 'UTC', search_path: 'public' } })).toBe(key({}));
  });
});

describe('counter keys', () => {
  it('count a table by its name without schema', () => {
    expect(versionedTable('users')).toBe('users');
    expect(versionedTable('app.users')).toBe('users');
    expect(versionedTables(['b', 's.a', 'a', 'b'])).toEqual(['a', 'b']);
  });

  it('share the database hash tag, so a Redis Cluster keeps one database in one slot', () => {
    const keys = databaseKeys('polyproxy:', 'app');
    expect(keys.generation).toBe('polyproxy:{app}:gen');
    expect(keys.version('users')).toBe('polyproxy:{app}:v:users');
    expect(keys.entry('ab12')).toBe('polyproxy:{app}:e:ab12');
  });

  it('encode names so braces and colons cannot end the tag or join two names', () => {
    const keys = databaseKeys('p:', 'a}b:c');
    expect(keys.generation).toBe('p:{a%7Db%3Ac}:gen');
    expect(keys.version('x:y')).toBe('p:{a%7Db%3Ac}:v:x%3Ay');
  });
});
