// MongoDB's system.* collections are refused (42501) before any server call, in every statement and EXPLAIN, and in the config.
import type { Db } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { PluginError } from '../../../../src/plugins/api.js';
import { Catalog } from '../../../../src/plugins/builtin/documents-mongodb/catalog.js';
import { documentsConfigSchema } from '../../../../src/plugins/builtin/documents-mongodb/config.js';
import { DocumentsHandler } from '../../../../src/plugins/builtin/documents-mongodb/handler.js';
import { loadParser } from '../../../../src/sql/parser.js';
import { statement } from './statement.js';

beforeAll(() => loadParser());

const config = documentsConfigSchema.parse({ url: 'mongodb://127.0.0.1:1', database: 'shop' });
/** No server: a refusal must come before the handler asks MongoDB anything. */
const noServer = new Proxy({} as Db, {
  get(_, key) {
    throw new Error(`MongoDB was asked for ${String(key)}`);
  },
});
const handler = new DocumentsHandler(noServer, new Catalog(noServer, config), 'docs');

async function refusal(work: Promise<unknown>): Promise<PluginError> {
  try {
    await work;
  } catch (err) {
    if (err instanceof PluginError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('system collections', () => {
  it.each([
    'SELECT * FROM docs."system.users"',
    'SELECT count(*) FROM docs."system.profile" WHERE op = $1',
    `INSERT INTO docs."system.js" (doc) VALUES ('{"_id": "f"}')`,
    'UPDATE docs."system.views" SET pipeline = $1',
    'DELETE FROM docs."system.views"',
  ])('refuses %s with 42501 in describe, execute and explain', async (sql) => {
    const stmt = statement(sql);
    const calls = [
      () => handler.describe(stmt),
      () => handler.execute(stmt),
      async () => handler.explain(stmt),
    ];
    for (const call of calls) {
      const err = await refusal(call());
      expect(err.sqlstate).toBe('42501');
      expect(err.message).toMatch(/^permission denied for table docs\."system\.\w+"$/);
      expect(err.hint).toContain("MongoDB's own metadata");
    }
  });

  it('refuses declaring one in the config', () => {
    const parsed = documentsConfigSchema.safeParse({
      url: 'mongodb://127.0.0.1:1',
      database: 'shop',
      collections: { 'system.users': { columns: { user: { type: 'text' } } } },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain('system.* collections');
  });
});
