// The documents plugin against real FerretDB, each query's result compared with the same SQL on real PostgreSQL.
import { MongoClient, type Db } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Catalog } from '../../src/plugins/builtin/documents-mongodb/catalog.js';
import { documentsConfigSchema } from '../../src/plugins/builtin/documents-mongodb/config.js';
import { DocumentsHandler } from '../../src/plugins/builtin/documents-mongodb/handler.js';
import { startFerretDb, type FerretDb } from '../../src/sandbox/ferretdb.js';
import { loadParser } from '../../src/sql/parser.js';
import { loadMongo, loadPostgres } from '../unit/plugins/documents-mongodb/fixture.js';
import { statement } from '../unit/plugins/documents-mongodb/statement.js';
import './helpers/context.js';

let ferret: FerretDb;
let mongo: MongoClient;
let db: Db;
let reference: pg.Client;
let handler: DocumentsHandler;

const textTypes = { getTypeParser: () => (value: string) => value };

async function postgresRows(sql: string, params: (string | null)[] = []): Promise<(string | null)[][]> {
  const result = await reference.query({ text: sql, values: params, rowMode: 'array', types: textTypes });
  return result.rows as (string | null)[][];
}

async function pluginRows(sql: string, params: (string | null)[] = []): Promise<(string | null)[][]> {
  const result = await handler.execute(statement(sql, { params }));
  return result.rows.map((row) => [...row]);
}

async function expectSame(sql: string, params: (string | null)[] = []): Promise<void> {
  const expected = await postgresRows(sql, params);
  const actual = await pluginRows(sql, params);
  expect(actual, sql).toEqual(expected);
}

beforeAll(async () => {
  await loadParser();
  ferret = await startFerretDb();
  mongo = new MongoClient(ferret.url);
  db = mongo.db('shop');
  const ctx = inject('pg');
  const admin = new pg.Client({
    host: ctx.host,
    port: ctx.port,
    user: 'postgres',
    password: ctx.password,
    database: 'app',
  });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS documents_reference');
  await admin.query('CREATE DATABASE documents_reference');
  await admin.end();
  reference = new pg.Client({
    host: ctx.host,
    port: ctx.port,
    user: 'postgres',
    password: ctx.password,
    database: 'documents_reference',
  });
  await reference.connect();
  await reference.query("SET TimeZone = 'UTC'");
  await loadMongo(db, 'items');
  await loadPostgres(reference, 'items');
  const config = documentsConfigSchema.parse({ url: ferret.url, database: 'shop', schema: 'docs' });
  handler = new DocumentsHandler(db, new Catalog(db, config), config.schema);
});

afterAll(async () => {
  await reference?.end();
  await mongo?.close();
  await ferret?.stop();
});

const selects = [
  'SELECT _id, name, qty, price, big, active, created FROM docs.items ORDER BY name',
  'SELECT * FROM docs.items WHERE false',
  'SELECT name FROM docs.items WHERE qty = 3 ORDER BY name',
  'SELECT name FROM docs.items WHERE qty <> 3 ORDER BY name',
  'SELECT name FROM docs.items WHERE 3 < qty ORDER BY name',
  'SELECT name FROM docs.items WHERE qty <= 3 AND price >= 1.5 ORDER BY name',
  'SELECT name FROM docs.items WHERE big > 10 ORDER BY name',
  "SELECT name FROM docs.items WHERE name IN ('apple', 'kiwi', 'nope') ORDER BY name",
  "SELECT name FROM docs.items WHERE name NOT IN ('apple', 'kiwi') ORDER BY name",
  'SELECT name FROM docs.items WHERE qty NOT IN (3, 7) ORDER BY name',
  'SELECT name FROM docs.items WHERE qty IN (3, NULL) ORDER BY name',
  'SELECT name FROM docs.items WHERE qty NOT IN (3, NULL) ORDER BY name',
  'SELECT name FROM docs.items WHERE price BETWEEN 1 AND 3.5 ORDER BY name',
  'SELECT name FROM docs.items WHERE price NOT BETWEEN 1 AND 3.5 ORDER BY name',
  "SELECT name FROM docs.items WHERE name LIKE 'a%' ORDER BY name",
  "SELECT name FROM docs.items WHERE name LIKE '_a%' ORDER BY name",
  "SELECT name FROM docs.items WHERE name LIKE 'a.c\\%\\_x' ORDER BY name",
  "SELECT name FROM docs.items WHERE name ILIKE 'A%' ORDER BY name",
  "SELECT name FROM docs.items WHERE name NOT LIKE '%a%' ORDER BY name",
  "SELECT name FROM docs.items WHERE name NOT ILIKE 'a%' ORDER BY name",
  "SELECT name FROM docs.items WHERE name = '$where'",
  'SELECT name FROM docs.items WHERE name = \'{"$gt": ""}\'',
  'SELECT name FROM docs.items WHERE qty IS NULL ORDER BY name',
  'SELECT name FROM docs.items WHERE active IS NOT NULL ORDER BY name',
  'SELECT name FROM docs.items WHERE active ORDER BY name',
  'SELECT name FROM docs.items WHERE NOT active ORDER BY name',
  'SELECT name FROM docs.items WHERE active IS NOT TRUE ORDER BY name',
  'SELECT name FROM docs.items WHERE NOT (qty > 2 AND active) ORDER BY name',
  'SELECT name FROM docs.items WHERE NOT (qty = 3 OR price < 2) ORDER BY name',
  'SELECT name FROM docs.items WHERE qty = 3 OR price IS NULL OR (big < 0 AND NOT active) ORDER BY name',
  "SELECT name, created FROM docs.items WHERE created >= '2024-01-02 03:04:05+00' ORDER BY created",
  'SELECT name, qty FROM docs.items ORDER BY qty, name',
  'SELECT name, qty FROM docs.items ORDER BY qty DESC, name',
  'SELECT name, qty FROM docs.items ORDER BY qty NULLS FIRST, name DESC',
  'SELECT name, qty FROM docs.items ORDER BY qty DESC NULLS LAST, name LIMIT 3',
  'SELECT name, qty, active FROM docs.items ORDER BY active, qty DESC, name LIMIT 4 OFFSET 2',
  'SELECT name, price FROM docs.items ORDER BY price DESC, name OFFSET 5',
  'SELECT name AS n FROM docs.items ORDER BY n DESC LIMIT 2',
  'SELECT name, qty FROM docs.items ORDER BY 2, 1 LIMIT 5 OFFSET 1',
  "SELECT name, doc->'meta'->>'color' AS color FROM docs.items ORDER BY name",
  "SELECT name, doc->'meta' AS meta, doc->'tags' AS tags FROM docs.items ORDER BY name",
  "SELECT name, doc->'tags'->>0 AS first_tag FROM docs.items ORDER BY name",
  "SELECT name FROM docs.items WHERE doc->'meta'->>'color' = 'red' ORDER BY name",
  "SELECT name FROM docs.items WHERE (doc->'meta'->>'size')::int > 2 ORDER BY name",
  "SELECT name FROM docs.items WHERE doc->'meta'->>'color' IS NULL ORDER BY name",
  "SELECT doc->'meta'->>'color' AS color, name FROM docs.items ORDER BY doc->'meta'->>'color' DESC, name",
  'SELECT count(*) FROM docs.items',
  'SELECT count(*), count(qty), sum(qty), avg(qty), min(qty), max(qty) FROM docs.items',
  'SELECT sum(price), avg(price), min(price), max(price) FROM docs.items',
  'SELECT sum(big), avg(big), min(big), max(big) FROM docs.items',
  'SELECT min(name), max(name), min(created), max(created) FROM docs.items',
  "SELECT count(*), sum(qty), avg(price), max(name) FROM docs.items WHERE name = 'none'",
  'SELECT active, count(*), sum(qty), avg(qty) FROM docs.items GROUP BY active ORDER BY active',
  'SELECT active, count(*) AS n FROM docs.items GROUP BY active ORDER BY n DESC, active NULLS FIRST',
  "SELECT doc->'meta'->>'color' AS color, count(*), min(price), max(qty) FROM docs.items GROUP BY 1 ORDER BY 1",
  'SELECT qty, count(*) FROM docs.items WHERE price > 0 GROUP BY qty HAVING count(*) > 1 ORDER BY qty',
  'SELECT qty, sum(price) FROM docs.items GROUP BY qty HAVING sum(price) >= 2 OR qty IS NULL ORDER BY qty DESC',
  'SELECT active, avg(big) FROM docs.items GROUP BY active HAVING NOT avg(big) < 10 ORDER BY 2',
  'SELECT qty, count(*) FROM docs.items GROUP BY qty ORDER BY count(*) DESC, qty LIMIT 2 OFFSET 1',
];

describe('documents plugin on FerretDB matches PostgreSQL', () => {
  it.each(selects)('%s', async (sql) => {
    await expectSame(sql);
  });

  it('converts parameters by the type of the column they meet', async () => {
    await expectSame('SELECT name FROM docs.items WHERE qty > $1 AND name <> $2 ORDER BY name', [
      '2',
      'kiwi',
    ]);
    await expectSame('SELECT name FROM docs.items WHERE created < $1 ORDER BY name', [
      '2024-01-02 03:04:05.678+00',
    ]);
    await expectSame('SELECT name FROM docs.items WHERE active = $1 ORDER BY name LIMIT $2', ['false', '5']);
  });

  it('keeps a parameter that looks like an operator a plain string', async () => {
    await expectSame('SELECT name FROM docs.items WHERE name = $1', ['$where']);
    await expectSame('SELECT name FROM docs.items WHERE name = $1', ['{"$ne": null}']);
  });

  it('describes result columns and parameter types', async () => {
    const description = await handler.describe(
      statement(
        "SELECT name, qty, big, price, active, created, doc->'meta' FROM docs.items WHERE qty = $1 AND created < $2",
      ),
    );
    expect(description.columns?.map((c) => c.typeOid)).toEqual([25, 23, 20, 701, 16, 1184, 3802]);
    expect(description.params).toEqual([23, 1184]);
  });
});

describe('writes on FerretDB match PostgreSQL', () => {
  const both = async (sql: string, params: (string | null)[] = []) => {
    const pgResult = await reference.query({ text: sql, values: params });
    const result = await handler.execute(statement(sql, { params }));
    const pgTag = `${pgResult.command}${pgResult.command === 'INSERT' ? ' 0' : ''} ${pgResult.rowCount}`;
    expect(result.command, sql).toBe(pgTag);
  };

  it('inserts, updates and deletes with the same row counts and results', async () => {
    await both(
      "INSERT INTO docs.items (name, qty, price, active) VALUES ('fig', 2, 0.5, true), ('lime', NULL, 9.25, false)",
    );
    await both('INSERT INTO docs.items (name, qty, created) VALUES ($1, $2, $3)', [
      'plum',
      '8',
      '2024-06-01 10:00:00+00',
    ]);
    await both('UPDATE docs.items SET qty = 11, active = false WHERE qty = 3');
    await both('UPDATE docs.items SET price = NULL WHERE name LIKE $1', ['%i%']);
    await both("UPDATE docs.items SET qty = 1 WHERE name = 'nobody'");
    await both('DELETE FROM docs.items WHERE active IS NULL OR price < 0');
    await expectSame('SELECT name, qty, price, active, created FROM docs.items ORDER BY name');
    await expectSame(
      'SELECT active, count(*), sum(qty), avg(price) FROM docs.items GROUP BY active ORDER BY active',
    );
    await both('DELETE FROM docs.items WHERE qty > 100');
  });

  it('returns the new _id of inserted documents and accepts a whole jsonb document', async () => {
    const inserted = await handler.execute(
      statement(`INSERT INTO docs.items (name, qty) VALUES ('pear', 4) RETURNING _id, name, qty`),
    );
    expect(inserted.command).toBe('INSERT 0 1');
    expect(inserted.rows[0][0]).toMatch(/^[0-9a-f]{24}$/);
    expect(inserted.rows[0].slice(1)).toEqual(['pear', '4']);
    const id = inserted.rows[0][0]!;
    const found = await pluginRows('SELECT name, qty FROM docs.items WHERE _id = $1', [id]);
    expect(found).toEqual([['pear', '4']]);

    const whole = await handler.execute(
      statement(
        `INSERT INTO docs.notes VALUES ('{"title": "hello", "n": 2, "nested": {"a": [1, 2]}}'::jsonb) RETURNING _id`,
      ),
    );
    expect(whole.command).toBe('INSERT 0 1');
    const notes = await pluginRows(`SELECT title, n, nested, doc->'nested'->'a'->>1 FROM docs.notes`);
    expect(notes).toEqual([['hello', '2', '{"a": [1, 2]}', '2']]);
  });
});
