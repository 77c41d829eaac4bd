// Describe plans a write without its values: a whole document as a parameter is typed jsonb and checked at Execute.
import { Int32 } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { PluginError } from '../../../../src/plugins/api.js';
import { Bindings } from '../../../../src/plugins/builtin/documents-mongodb/bindings.js';
import { typeOids } from '../../../../src/plugins/builtin/documents-mongodb/pg-types.js';
import type { InsertPlan } from '../../../../src/plugins/builtin/documents-mongodb/plans.js';
import { declaredShape } from '../../../../src/plugins/builtin/documents-mongodb/table-shape.js';
import { planInsert } from '../../../../src/plugins/builtin/documents-mongodb/write-plan.js';
import { loadParser } from '../../../../src/sql/parser.js';
import { statement } from './statement.js';

beforeAll(() => loadParser());

const shape = declaredShape('docs.notes', 'notes', { title: { type: 'text' } });
const features = { minMaxAccumulators: false, decimal128: false };

/** Plans an INSERT as the handler does: values null while describing, else the bound ones. */
function insert(sql: string, params: (string | null)[] | null) {
  const stmt = statement(sql);
  const bindings = new Bindings(features, params, []);
  const body = (stmt.ast as { InsertStmt: Record<string, unknown> }).InsertStmt;
  const plan: InsertPlan = planInsert(body, shape, bindings, () => [
    { name: '_id', type: 'text', source: { kind: 'field', path: ['_id'] } },
  ]);
  return { plan, bindings };
}

function refusal(run: () => unknown): PluginError {
  try {
    run();
  } catch (err) {
    if (err instanceof PluginError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('INSERT of a whole document as a parameter', () => {
  it('describes without a value: no rows, the parameter typed jsonb', () => {
    const { plan, bindings } = insert('INSERT INTO docs.notes (doc) VALUES ($1)', null);
    expect(bindings.describing).toBe(true);
    expect(plan.returning).toBeNull();
    expect(bindings.paramOids(1)).toEqual([typeOids.jsonb]);
  });

  it('describes RETURNING from the columns, also for a document with no column list', () => {
    const { plan } = insert('INSERT INTO docs.notes VALUES ($1) RETURNING _id', null);
    expect(plan.returning?.map((c) => [c.name, c.type])).toEqual([['_id', 'text']]);
  });

  it('stores the bound document at Execute, and refuses one that is no JSON object there', () => {
    const { plan, bindings } = insert('INSERT INTO docs.notes (doc) VALUES ($1)', ['{"title": "a", "n": 1}']);
    expect(bindings.describing).toBe(false);
    expect(plan.documents).toEqual([{ title: 'a', n: new Int32(1) }]);
    for (const value of ['[1, 2]', '"text"', null]) {
      const err = refusal(() => insert('INSERT INTO docs.notes (doc) VALUES ($1)', [value]));
      expect([value, err.sqlstate, err.message]).toEqual([
        value,
        '22023',
        'documents plugin: a document must be a JSON object',
      ]);
    }
  });
});
