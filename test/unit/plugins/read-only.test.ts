// Which SQL a read-only transaction refuses in a plugin's statement, named as PostgreSQL names it.
import { beforeAll, describe, expect, it } from 'vitest';
import { PluginError } from '../../../src/plugins/api.js';
import { readOnlyRefusal, sqlWriteCommand } from '../../../src/plugins/read-only.js';
import { loadParser, parseSql } from '../../../src/sql/parser.js';

beforeAll(() => loadParser());

function command(sql: string): string | undefined {
  const parsed = parseSql(sql);
  if (!parsed.ok) throw new Error(parsed.error);
  return sqlWriteCommand(parsed.statements[0]);
}

describe('sqlWriteCommand', () => {
  it.each([
    ["INSERT INTO docs.items (name) VALUES ('a')", 'INSERT'],
    ['UPDATE docs.items SET qty = 1', 'UPDATE'],
    ['DELETE FROM docs.items WHERE qty > 1', 'DELETE'],
    ['MERGE INTO kv.entries e USING (SELECT 1 AS k) s ON e.key = s.k WHEN MATCHED THEN DELETE', 'MERGE'],
    ['WITH gone AS (DELETE FROM kv.entries RETURNING key) SELECT * FROM gone', 'DELETE'],
    ['SELECT * FROM docs.items FOR UPDATE', 'SELECT FOR UPDATE'],
    ['SELECT * FROM docs.items FOR NO KEY UPDATE', 'SELECT FOR NO KEY UPDATE'],
    ['SELECT * FROM docs.items FOR SHARE', 'SELECT FOR SHARE'],
    ['SELECT * FROM docs.items FOR KEY SHARE', 'SELECT FOR KEY SHARE'],
  ])('%s is %s', (sql, expected) => {
    expect(command(sql)).toBe(expected);
  });

  it.each([
    'SELECT * FROM docs.items WHERE qty > 1',
    "SELECT * FROM cypher('social', $$ CREATE (n) $$) AS (n agtype)",
    "SELECT 'INSERT INTO t VALUES (1)' AS text FROM kv.entries",
  ])('%s is a read', (sql) => {
    expect(command(sql)).toBeUndefined();
  });
});

describe('readOnlyRefusal', () => {
  it("is PostgreSQL's 25006 with its message, as a PluginError plugins pass on", () => {
    const err = readOnlyRefusal('INSERT');
    expect(err).toBeInstanceOf(PluginError);
    expect([err.sqlstate, err.message]).toEqual([
      '25006',
      'cannot execute INSERT in a read-only transaction',
    ]);
  });
});
