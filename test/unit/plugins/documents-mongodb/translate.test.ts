// Translation of parsed SQL to MongoDB commands, on a declared table shape (no server needed).
import { Int32, ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { PluginError } from '../../../../src/plugins/api.js';
import { Bindings } from '../../../../src/plugins/builtin/documents-mongodb/bindings.js';
import { likeToRegex } from '../../../../src/plugins/builtin/documents-mongodb/filter.js';
import { commandsFor } from '../../../../src/plugins/builtin/documents-mongodb/handler.js';
import type { Plan } from '../../../../src/plugins/builtin/documents-mongodb/plans.js';
import { planSelect } from '../../../../src/plugins/builtin/documents-mongodb/select-plan.js';
import { declaredShape } from '../../../../src/plugins/builtin/documents-mongodb/table-shape.js';
import {
  planDelete,
  planInsert,
  planUpdate,
} from '../../../../src/plugins/builtin/documents-mongodb/write-plan.js';
import { loadParser } from '../../../../src/sql/parser.js';
import { statement } from './statement.js';

const shape = declaredShape('docs.orders', 'orders', {
  status: { type: 'text' },
  total: { type: 'float8' },
  qty: { type: 'int4' },
  city: { type: 'text', path: 'address.city' },
  placed: { type: 'timestamptz' },
  paid: { type: 'bool' },
});
const features = { minMaxAccumulators: false, decimal128: false };

function plan(sql: string, params: (string | null)[] = []): Plan {
  const stmt = statement(sql, { params });
  const kind = Object.keys(stmt.ast)[0];
  const body = (stmt.ast as Record<string, Record<string, unknown>>)[kind];
  const bindings = new Bindings(features, params, []);
  if (kind === 'SelectStmt') return planSelect(body, shape, bindings);
  if (kind === 'InsertStmt') return planInsert(body, shape, bindings, () => []);
  if (kind === 'UpdateStmt') return planUpdate(body, shape, bindings);
  return planDelete(body, shape, bindings);
}

const commands = (sql: string, params: (string | null)[] = [], minMax = false) =>
  JSON.parse(JSON.stringify(commandsFor(plan(sql, params), { minMaxAccumulators: minMax }))) as unknown[];

function unsupportedMessage(sql: string): string {
  try {
    plan(sql);
  } catch (err) {
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).sqlstate).toBe('0A000');
    return err instanceof Error ? err.message : '';
  }
  throw new Error(`expected ${sql} to be refused`);
}

beforeAll(async () => {
  await loadParser();
});

describe('WHERE', () => {
  it('wraps every literal in an operator, so a string that looks like one stays a string', () => {
    const find = plan("SELECT status FROM docs.orders WHERE status = '$where'");
    expect(find.kind === 'find' && find.filter).toEqual({ status: { $eq: '$where' } });
    const param = plan('SELECT status FROM docs.orders WHERE status = $1', ['{"$gt": ""}']);
    expect(param.kind === 'find' && param.filter).toEqual({ status: { $eq: '{"$gt": ""}' } });
  });

  it('follows three-valued logic: <> and NOT exclude NULLs', () => {
    const ne = plan('SELECT status FROM docs.orders WHERE qty <> 3');
    expect(ne.kind === 'find' && ne.filter).toEqual({
      $and: [{ qty: { $ne: new Int32(3) } }, { qty: { $ne: null } }],
    });
    const not = plan('SELECT status FROM docs.orders WHERE NOT (qty = 3 OR paid)');
    expect(not.kind === 'find' && not.filter).toEqual({
      $and: [{ $and: [{ qty: { $ne: new Int32(3) } }, { qty: { $ne: null } }] }, { paid: { $eq: false } }],
    });
    const notIn = plan("SELECT status FROM docs.orders WHERE city NOT IN ('Oslo', 'Rome')");
    expect(notIn.kind === 'find' && notIn.filter).toEqual({
      'address.city': { $nin: ['Oslo', 'Rome', null] },
    });
  });

  it('converts constants and parameters by the column they meet', () => {
    const find = plan(
      'SELECT status FROM docs.orders WHERE placed < $1 AND total BETWEEN 1 AND $2 AND _id = $3',
      ['2024-01-02 03:04:05+02', '9.5', '65a000000000000000000001'],
    );
    expect(find.kind === 'find' && find.filter).toEqual({
      $and: [
        { placed: { $lt: new Date('2024-01-02T01:04:05Z') } },
        { total: { $gte: expect.anything(), $lte: expect.anything() } },
        { _id: { $eq: new ObjectId('65a000000000000000000001') } },
      ],
    });
  });

  it('turns LIKE into an anchored regex with everything else escaped', () => {
    expect(likeToRegex('a%b_c')).toBe('^a.*b.c$');
    expect(likeToRegex('50\\%.$(x)')).toBe('^50%\\.\\$\\(x\\)$');
    const find = plan("SELECT status FROM docs.orders WHERE status ILIKE 'new%'");
    expect(find.kind === 'find' && find.filter).toEqual({ status: { $regex: '^new.*$', $options: 'is' } });
  });

  it('refuses field names that would read as operators', () => {
    expect(() => plan("SELECT doc->>'$where' FROM docs.orders")).toThrow(/cannot be used as a field name/);
  });
});

describe('SELECT', () => {
  it('pushes projection, sort, skip and limit into one find', () => {
    expect(
      commands(
        'SELECT status, city FROM docs.orders WHERE qty > 1 ORDER BY placed DESC NULLS LAST LIMIT 10 OFFSET 20',
      ),
    ).toEqual([
      {
        find: 'orders',
        filter: { qty: { $gt: 1 } },
        projection: { status: 1, 'address.city': 1 },
        sort: { placed: -1 },
        skip: 20,
        limit: 10,
      },
    ]);
  });

  it('splits the sort where PostgreSQL places NULLs differently from MongoDB', () => {
    expect(commands('SELECT status FROM docs.orders ORDER BY total, _id LIMIT 3')).toEqual([
      {
        find: 'orders',
        filter: { total: { $ne: null } },
        projection: { status: 1 },
        sort: { total: 1, _id: 1 },
        limit: 3,
        segment: '1 of 2',
      },
      {
        find: 'orders',
        filter: { total: { $eq: null } },
        projection: { status: 1 },
        sort: { _id: 1 },
        limit: 3,
        segment: '2 of 2',
      },
    ]);
  });

  it('groups in one pipeline per accumulator; min/max natively where the server has them', () => {
    const sql = 'SELECT city, count(*), sum(total), max(qty) FROM docs.orders WHERE paid GROUP BY city';
    const match = { $match: { paid: { $eq: true } } };
    expect(commands(sql)).toEqual([
      {
        aggregate: 'orders',
        pipeline: [
          match,
          { $group: { _id: { k0: '$address.city', t0: { $type: '$total' } }, n: { $sum: 1 } } },
        ],
      },
      {
        aggregate: 'orders',
        pipeline: [match, { $group: { _id: { k0: '$address.city' }, s: { $sum: '$total' } } }],
      },
      {
        aggregate: 'orders',
        pipeline: [match, { $group: { _id: { k0: '$address.city', v: '$qty' }, n: { $sum: 1 } } }],
      },
    ]);
    expect(commands(sql, [], true)[2]).toEqual({
      aggregate: 'orders',
      pipeline: [match, { $group: { _id: { k0: '$address.city' }, m: { $min: '$qty' } } }],
    });
  });

  it('reports PostgreSQL result types for aggregates', () => {
    const grouped = plan('SELECT count(*), sum(qty), avg(qty), avg(total), min(placed) FROM docs.orders');
    expect(grouped.kind === 'group' && grouped.columns.map((c) => c.type)).toEqual([
      'int8',
      'int8',
      'numeric',
      'float8',
      'timestamptz',
    ]);
  });

  it('refuses what MongoDB cannot run, saying what to do instead', () => {
    expect(
      unsupportedMessage('SELECT o.status FROM docs.orders o JOIN public.users u ON u.id = o.qty'),
    ).toMatch(/joins is not supported; query one collection/);
    expect(unsupportedMessage('SELECT status, rank() OVER (ORDER BY total) FROM docs.orders')).toMatch(
      /window functions/,
    );
    expect(unsupportedMessage('SELECT status FROM docs.orders WHERE qty IN (SELECT 1)')).toMatch(/subquer/);
    expect(unsupportedMessage('SELECT DISTINCT status FROM docs.orders')).toMatch(/DISTINCT/);
    expect(unsupportedMessage('SELECT status FROM docs.orders WHERE qty = total')).toMatch(
      /comparing two columns/,
    );
    expect(unsupportedMessage('SELECT upper(status) FROM docs.orders')).toMatch(/function upper/);
  });

  it('names columns that are neither grouped nor aggregated', () => {
    expect(() => plan('SELECT status, count(*) FROM docs.orders')).toThrow(
      /must appear in the GROUP BY clause/,
    );
  });
});

describe('writes', () => {
  it('builds typed documents, nested by declared paths, leaving NULLs out', () => {
    const insert = plan(
      "INSERT INTO docs.orders (status, qty, city, paid, note) VALUES ('new', $1, 'Oslo', NULL, 'x')",
      ['4'],
    );
    expect(insert.kind === 'insert' && insert.documents).toEqual([
      { status: 'new', qty: new Int32(4), address: { city: 'Oslo' }, note: 'x' },
    ]);
  });

  it('sets and unsets fields with UPDATE', () => {
    expect(commands("UPDATE docs.orders SET city = 'Rome', total = NULL WHERE status = 'new'")).toEqual([
      {
        update: 'orders',
        updates: [
          {
            q: { status: { $eq: 'new' } },
            u: { $set: { 'address.city': 'Rome' }, $unset: { total: '' } },
            multi: true,
          },
        ],
      },
    ]);
  });

  it('refuses documents with operator keys', () => {
    expect(() => plan(`INSERT INTO docs.orders VALUES ('{"a": {"$where": "1"}}')`)).toThrow(
      /may not start with \$/,
    );
  });
});
