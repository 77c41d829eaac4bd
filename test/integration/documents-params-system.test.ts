// The documents plugin on real FerretDB: a whole document bound as a parameter (node-postgres, postgres.js named and unnamed), and system.* collections refused.
import { MongoClient } from 'mongodb';
import type pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFerretDb, type FerretDb } from '../../src/sandbox/ferretdb.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect, rejection } from './helpers/tools.js';

let ferret: FerretDb;
let mongo: MongoClient;
let proxy: TestProxy;
let client: pg.Client;
const sqls: postgres.Sql[] = [];

beforeAll(async () => {
  ferret = await startFerretDb();
  mongo = new MongoClient(ferret.url);
  proxy = await startTestProxy({
    pluginsYaml: `  documents: { url: ${JSON.stringify(ferret.url)}, database: shop, schema: docs }`,
  });
  client = await connect(proxy.client());
});

afterAll(async () => {
  await client?.end();
  await Promise.all(sqls.map((sql) => sql.end({ timeout: 5 })));
  await proxy?.close();
  await mongo?.close();
  await ferret?.stop();
});

const shop = () => mongo.db('shop');
const stored = async () =>
  (
    await shop()
      .collection('notes')
      .find({}, { projection: { _id: 0 } })
      .sort({ title: 1 })
      .toArray()
  ).map((d) => ({ ...d }));

beforeEach(async () => {
  await shop().collection('notes').deleteMany({});
});

describe('a whole document as a parameter', () => {
  it('node-postgres: INSERT (doc) VALUES ($1), with and without RETURNING, unnamed and named', async () => {
    const inserted = await client.query('INSERT INTO docs.notes (doc) VALUES ($1)', [
      JSON.stringify({ title: 'a', tags: ['x'], meta: { n: 1 } }),
    ]);
    expect([inserted.command, inserted.rowCount, inserted.fields]).toEqual(['INSERT', 1, []]);
    const returned = await client.query('INSERT INTO docs.notes VALUES ($1) RETURNING _id, title', [
      JSON.stringify({ title: 'b' }),
    ]);
    expect(returned.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ['_id', 25],
      ['title', 25],
    ]);
    expect(returned.rows).toEqual([{ _id: expect.stringMatching(/^[0-9a-f]{24}$/), title: 'b' }]);
    for (const title of ['c', 'd']) {
      await client.query({
        name: 'insert-note',
        text: 'INSERT INTO docs.notes (doc) VALUES ($1)',
        values: [JSON.stringify({ title })],
      });
    }
    expect(await stored()).toEqual([
      { title: 'a', tags: ['x'], meta: { n: 1 } },
      { title: 'b' },
      { title: 'c' },
      { title: 'd' },
    ]);
    // A value that is no JSON object is refused at Execute, as the same literal is.
    for (const value of ['[1, 2]', '"text"', null]) {
      const bound = await rejection(client.query('INSERT INTO docs.notes (doc) VALUES ($1)', [value]));
      expect([bound.code, bound.message]).toEqual([
        '22023',
        'documents plugin: a document must be a JSON object',
      ]);
    }
    const literal = await rejection(client.query("INSERT INTO docs.notes (doc) VALUES ('[1, 2]')"));
    expect([literal.code, literal.message]).toEqual([
      '22023',
      'documents plugin: a document must be a JSON object',
    ]);
    expect((await stored()).length).toBe(4);
  });

  it.each([
    ['named prepared statements', true],
    ['unnamed statements', false],
  ])('postgres.js with %s: sql.json and plain objects, RETURNING', async (_, prepare) => {
    const sql = postgres(proxy.url(), { max: 1, prepare, onnotice: () => {} });
    sqls.push(sql);
    await sql`INSERT INTO docs.notes (doc) VALUES (${sql.json({ title: 'a', n: 1 })})`;
    // No type given: postgres.js asks Describe for it (jsonb) and serializes the object as JSON.
    await sql`INSERT INTO docs.notes (doc) VALUES (${{ title: 'b', nested: { ok: true } } as never})`;
    const [row] =
      await sql`INSERT INTO docs.notes (doc) VALUES (${sql.json({ title: 'c' })}) RETURNING _id, title`;
    expect(row).toEqual({ _id: expect.stringMatching(/^[0-9a-f]{24}$/), title: 'c' });
    // The same statement again: a named one is executed without a new Parse.
    await sql`INSERT INTO docs.notes (doc) VALUES (${sql.json({ title: 'd' })})`;
    const refused = await rejection(sql`INSERT INTO docs.notes (doc) VALUES (${sql.json([1])})`);
    expect((refused as { code?: string }).code).toBe('22023');
    expect(await stored()).toEqual([
      { title: 'a', n: 1 },
      { title: 'b', nested: { ok: true } },
      { title: 'c' },
      { title: 'd' },
    ]);
  });
});

describe("MongoDB's system collections", () => {
  beforeAll(async () => {
    await shop().collection('system.js').deleteMany({});
    await shop()
      .collection('system.js')
      .insertOne({ _id: 'f' as never, value: 1 });
  });

  const js = async () => shop().collection('system.js').find({}).toArray();

  it.each([
    ['SELECT * FROM docs."system.js"', [], 'system.js'],
    ['SELECT value FROM docs."system.js" WHERE value = $1', [1], 'system.js'],
    [`INSERT INTO docs."system.js" (doc) VALUES ('{"_id": "g", "value": 2}')`, [], 'system.js'],
    ['INSERT INTO docs."system.views" (doc) VALUES ($1)', ['{"_id": "shop.v"}'], 'system.views'],
    ['UPDATE docs."system.js" SET value = 3', [], 'system.js'],
    ['DELETE FROM docs."system.js" WHERE value = $1', [1], 'system.js'],
    ['SELECT * FROM docs."system.users"', [], 'system.users'],
    ['SELECT count(*) FROM docs."system.profile"', [], 'system.profile'],
  ])('refuses %s with 42501', async (sql, values, collection) => {
    const err = await rejection(client.query(sql, values));
    expect([err.code, err.message]).toEqual(['42501', `permission denied for table docs."${collection}"`]);
    expect(err.hint).toContain("MongoDB's own metadata");
    expect(await js()).toEqual([{ _id: 'f', value: 1 }]);
    expect(await shop().listCollections({ name: 'system.views' }).toArray()).toEqual([]);
  });

  it('EXPLAIN ROUTE names the refusal instead of a MongoDB command; docs.systems is no system collection', async () => {
    for (const sql of ['SELECT * FROM docs."system.js"', 'DELETE FROM docs."system.users"']) {
      const res = await client.query(`EXPLAIN ROUTE ${sql}`);
      const collection = /"(system\.\w+)"/.exec(sql)![1];
      expect(res.rows).toEqual([{ route: `error: permission denied for table docs."${collection}"` }]);
    }
    // A collection whose name only starts like one is an ordinary collection.
    await client.query(`INSERT INTO docs.systems (doc) VALUES ('{"name": "s"}')`);
    expect((await client.query('SELECT name FROM docs.systems')).rows).toEqual([{ name: 's' }]);
  });
});
