// The documents plugin end to end: node-postgres through a running polyproxy to real FerretDB, every type decoded natively.
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFerretDb, type FerretDb } from '../../src/sandbox/ferretdb.js';
import { fixtureIds, loadMongo } from '../unit/plugins/documents-mongodb/fixture.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';

let ferret: FerretDb;
let proxy: TestProxy;
let client: pg.Client;

beforeAll(async () => {
  ferret = await startFerretDb();
  const mongo = new MongoClient(ferret.url);
  try {
    await loadMongo(mongo.db('shop'), 'items');
  } finally {
    await mongo.close();
  }
  proxy = await startTestProxy({
    pluginsYaml: [
      `  documents:`,
      `    url: ${JSON.stringify(ferret.url)}`,
      `    database: shop`,
      `    schema: docs`,
      `    collections:`,
      `      items_typed:`,
      `        columns:`,
      `          name: { type: text }`,
      `          color: { type: text, path: meta.color }`,
      `          size: { type: int4, path: meta.size }`,
      `          price: { type: numeric }`,
    ].join('\n'),
  });
  client = new pg.Client(proxy.client());
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await proxy?.close();
  await ferret?.stop();
});

describe('documents plugin through the proxy', () => {
  it('decodes every type natively in node-postgres', async () => {
    const res = await client.query(
      "SELECT _id, name, qty, big, price, active, created, doc->'meta' AS meta, doc->'tags' AS tags FROM docs.items WHERE name = 'apple'",
    );
    expect(res.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ['_id', 25],
      ['name', 25],
      ['qty', 23],
      ['big', 20],
      ['price', 701],
      ['active', 16],
      ['created', 1184],
      ['meta', 3802],
      ['tags', 3802],
    ]);
    expect(res.rows).toEqual([
      {
        _id: fixtureIds[0].toHexString(),
        name: 'apple',
        qty: 3,
        big: '9007199254740993',
        price: 1.5,
        active: true,
        created: new Date('2024-01-02T03:04:05.678Z'),
        meta: { color: 'red', size: 2 },
        tags: ['fruit', 'red'],
      },
    ]);
  });

  it('answers the extended protocol with parameters and aggregates', async () => {
    const res = await client.query(
      'SELECT active, count(*) AS n, avg(qty) AS mean FROM docs.items WHERE qty >= $1 GROUP BY active ORDER BY active',
      [3],
    );
    expect(res.fields.map((f) => f.dataTypeID)).toEqual([16, 20, 1700]);
    expect(res.rows).toEqual([
      { active: false, n: '1', mean: '3.0000000000000000' },
      { active: true, n: '3', mean: '6.0000000000000000' },
      { active: null, n: '2', mean: '6.0000000000000000' },
    ]);
  });

  it('reads declared columns at nested paths', async () => {
    const mongo = new MongoClient(ferret.url);
    try {
      await loadMongo(mongo.db('shop'), 'items_typed');
    } finally {
      await mongo.close();
    }
    const res = await client.query(
      'SELECT name, color, size FROM docs.items_typed WHERE size >= $1 ORDER BY size DESC, name',
      [3],
    );
    expect(res.rows).toEqual([
      { name: 'a.c%_x', color: null, size: 9 },
      { name: 'kiwi', color: 'green', size: 4 },
      { name: 'banana', color: 'yellow', size: 3 },
    ]);
  });

  it('writes with the command tags PostgreSQL would send', async () => {
    const inserted = await client.query(
      'INSERT INTO docs.items (name, qty) VALUES ($1, $2), ($3, $4) RETURNING _id',
      ['grape', 20, 'melon', 21],
    );
    expect(inserted.command).toBe('INSERT');
    expect(inserted.rowCount).toBe(2);
    expect(inserted.rows.every((row: { _id: string }) => /^[0-9a-f]{24}$/.test(row._id))).toBe(true);
    const updated = await client.query('UPDATE docs.items SET active = true WHERE qty > 19');
    expect([updated.command, updated.rowCount]).toEqual(['UPDATE', 2]);
    const deleted = await client.query("DELETE FROM docs.items WHERE name IN ('grape', 'melon')");
    expect([deleted.command, deleted.rowCount]).toEqual(['DELETE', 2]);
  });

  it('explains a collection no statement has read yet, once its columns are sampled', async () => {
    const mongo = new MongoClient(ferret.url);
    try {
      await mongo.db('shop').collection('fresh').insertOne({ a: 1 });
    } finally {
      await mongo.close();
    }
    const explained = await client.query('EXPLAIN ROUTE SELECT a FROM docs.fresh WHERE a = 1');
    expect(explained.rows[0].route).toBe(
      'plugin=documents {"find":"fresh","filter":{"a":{"$eq":1}},"projection":{"a":1}}',
    );
  });

  it('explains the MongoDB command and refuses what it cannot push down', async () => {
    await client.query('SELECT name FROM docs.items LIMIT 1');
    const explained = await client.query(
      'EXPLAIN ROUTE SELECT name FROM docs.items WHERE qty > 2 ORDER BY qty DESC NULLS LAST LIMIT 5',
    );
    expect(explained.rows[0].route).toBe(
      'plugin=documents {"find":"items","filter":{"qty":{"$gt":2}},"projection":{"name":1},"sort":{"qty":-1},"limit":5}',
    );
    // PostgreSQL puts NULLs last ascending, MongoDB first: two pushed-down segments, non-null rows then null rows.
    const split = await client.query('EXPLAIN ROUTE SELECT name FROM docs.items ORDER BY qty LIMIT 5');
    expect(String(split.rows[0].route).split('\n')).toEqual([
      'plugin=documents {"find":"items","filter":{"qty":{"$ne":null}},"projection":{"name":1},"sort":{"qty":1},"limit":5,"segment":"1 of 2"}',
      '{"find":"items","filter":{"qty":{"$eq":null}},"projection":{"name":1},"limit":5,"segment":"2 of 2"}',
    ]);
    await expect(
      client.query('SELECT i.name FROM docs.items i JOIN docs.items j ON i._id = j._id'),
    ).rejects.toMatchObject({
      code: '0A000',
    });
    await expect(client.query('SELECT name, row_number() OVER () FROM docs.items')).rejects.toMatchObject({
      code: '0A000',
    });
  });
});
