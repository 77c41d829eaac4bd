// The widecolumn plugin's conditional writes (WHERE on other columns as CQL IF) and counter increments, as CQL text and counts.
import { beforeAll, describe, expect, it } from 'vitest';
import { PluginError } from '../../../../src/plugins/api.js';
import { Catalog } from '../../../../src/plugins/builtin/widecolumn-cassandra/catalog.js';
import {
  WidecolumnHandler,
  type CqlPage,
  type CqlRunner,
} from '../../../../src/plugins/builtin/widecolumn-cassandra/handler.js';
import type { CqlStatement } from '../../../../src/plugins/builtin/widecolumn-cassandra/plans.js';
import { loadParser } from '../../../../src/sql/parser.js';
import { statement, type StatementOptions } from '../documents-mongodb/statement.js';

const schemaRows: Record<string, unknown[][]> = {
  accounts: [
    ['id', 'partition_key', 0, 'none', 'int'],
    ['owner', 'regular', -1, 'none', 'text'],
    ['balance', 'regular', -1, 'none', 'int'],
  ],
  hits: [
    ['page', 'partition_key', 0, 'none', 'text'],
    ['views', 'regular', -1, 'none', 'counter'],
  ],
};

class Recorder implements CqlRunner {
  readonly sent: CqlStatement[] = [];
  reply: unknown[][] = [];
  rows(s: CqlStatement): Promise<unknown[][]> {
    this.sent.push(s);
    return Promise.resolve(this.reply);
  }
  page(s: CqlStatement): Promise<CqlPage> {
    this.sent.push(s);
    return Promise.resolve({ rows: this.reply });
  }
  batch(): Promise<void> {
    return Promise.resolve();
  }
}

beforeAll(async () => {
  await loadParser();
});

async function run(sql: string, reply: unknown[][] = [], opts: StatementOptions = {}) {
  const runner = new Recorder();
  runner.reply = reply;
  const catalog = new Catalog(
    (_cql, params) => Promise.resolve(schemaRows[String(params[1])] ?? []),
    'bank',
    'wide',
    60_000,
    new Set(),
  );
  const handler = new WidecolumnHandler(runner, catalog, 'wide', { read: 'one', write: 'one' });
  const outcome = await handler.execute(statement(sql, opts)).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error: error as PluginError }),
  );
  return { ...outcome, sent: runner.sent };
}

describe('conditions on other columns', () => {
  it('sends them as IF after the key and counts the row from [applied]', async () => {
    const applied = await run(
      "UPDATE wide.accounts SET balance = $1 WHERE id = 1 AND balance >= 10 AND owner IN ('a', NULL)",
      [[true]],
      { params: ['5'] },
    );
    expect(applied.sent).toEqual([
      {
        cql: 'UPDATE "bank"."accounts" SET "balance" = ? WHERE "id" = ? IF "balance" >= ? AND "owner" IN ?',
        params: [5, 1, 10, ['a']],
      },
    ]);
    expect(applied.result?.command).toBe('UPDATE 1');
    const missed = await run("DELETE FROM wide.accounts WHERE id = 1 AND owner = 'b'", [[false, 'a']]);
    expect(missed.sent[0].cql).toBe('DELETE FROM "bank"."accounts" WHERE "id" = ? IF "owner" = ?');
    expect(missed.result?.command).toBe('DELETE 0');
  });

  it('answers a condition with a NULL value with no row, without asking Cassandra', async () => {
    const { result, sent } = await run(
      'UPDATE wide.accounts SET owner = $1 WHERE id = 2 AND balance = $2',
      [],
      {
        params: ['x', null],
      },
    );
    expect([result?.command, sent]).toEqual(['UPDATE 0', []]);
  });

  it('refuses conditions over more than one row', async () => {
    const { error } = await run("DELETE FROM wide.accounts WHERE id IN (1, 2) AND owner = 'a'");
    expect(error?.sqlstate).toBe('0A000');
    expect(error?.message).toMatch(/"owner".*one row/);
  });
});

describe('counters', () => {
  it('increments without a lightweight transaction and reports one row', async () => {
    const { result, sent } = await run("UPDATE wide.hits SET views = views + 2 WHERE page = 'home'");
    expect(sent[0]).toMatchObject({
      cql: 'UPDATE "bank"."hits" SET "views" = "views" + ? WHERE "page" = ?',
    });
    expect(String(sent[0].params[0])).toBe('2');
    expect(result?.command).toBe('UPDATE 1');
    const reversed = await run("UPDATE wide.hits SET views = $1 + views WHERE page = 'home'", [], {
      params: ['3'],
    });
    expect(reversed.sent[0].cql).toContain('"views" = "views" + ?');
  });

  it('deletes by counting first, as counter tables take no IF EXISTS', async () => {
    const { sent } = await run("DELETE FROM wide.hits WHERE page = 'home'", [[1]]);
    expect(sent.map((s) => s.cql)).toEqual([
      'SELECT count(*) FROM "bank"."hits" WHERE "page" = ?',
      'DELETE FROM "bank"."hits" WHERE "page" = ?',
    ]);
  });

  it('refuses INSERT, a plain value, subtraction from a value, conditions and NULL', async () => {
    for (const sql of [
      "INSERT INTO wide.hits (page, views) VALUES ('a', 1)",
      "UPDATE wide.hits SET views = 4 WHERE page = 'a'",
      "UPDATE wide.hits SET views = 4 - views WHERE page = 'a'",
      "UPDATE wide.hits SET views = views + 1 WHERE page = 'a' AND views = 3",
      "UPDATE wide.hits SET views = views + NULL WHERE page = 'a'",
    ])
      expect((await run(sql)).error?.sqlstate, sql).toBe('0A000');
  });
});
