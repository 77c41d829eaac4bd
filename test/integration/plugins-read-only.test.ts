// Read-only transactions reach plugins: documents writes and cypher() writes answer 25006 as PostgreSQL does, reads still answer; unsharded and sharded.
import { MongoClient } from 'mongodb';
import neo4j, { type Driver } from 'neo4j-driver';
import type pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { startFerretDb, type FerretDb } from '../../src/sandbox/ferretdb.js';
import { startNeo4j, type Neo4jServer } from '../../src/sandbox/neo4j.js';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect, rejection, withClient } from './helpers/tools.js';
import { createAppDatabase, shardedDatabasesYaml } from './sharding-helpers.js';

let ferret: FerretDb;
let mongo: MongoClient;
let graphServer: Neo4jServer;
let graph: Driver;
let cluster: Cluster;
let proxy: TestProxy;
const clients: pg.Client[] = [];
const sqls: postgres.Sql[] = [];

/** PostgreSQL's own answer to a write in a read-only transaction, on a table of its own. */
let plainRefusal: { code?: string; message: string };

beforeAll(async () => {
  [ferret, graphServer, cluster] = await Promise.all([
    startFerretDb(),
    startNeo4j(),
    startCluster({ shards: 2, replicasPerShard: 0 }),
  ]);
  await createAppDatabase(cluster);
  mongo = new MongoClient(ferret.url);
  graph = neo4j.driver(graphServer.url);
  const pgCtx = inject('pg');
  const unsharded = [
    '  app:',
    `    backend: { user: postgres, password: ${JSON.stringify(pgCtx.password)}, database: app }`,
    '    pool: { mode: transaction, size: 4 }',
    `    shards: [{ primary: "${pgCtx.host}:${pgCtx.port}" }]`,
  ].join('\n');
  proxy = await startTestProxy({
    databasesYaml: [
      unsharded,
      shardedDatabasesYaml({ cluster, sharding: { tables: { items: 'id' } }, name: 'sharded' }),
    ].join('\n'),
    pluginsYaml: [
      `  documents: { url: ${JSON.stringify(ferret.url)}, database: shop, schema: docs }`,
      `  graph: { url: ${JSON.stringify(graphServer.url)}, graphs: { social: neo4j } }`,
    ].join('\n'),
  });
  plainRefusal = await withClient(directConfig(), async (c) => {
    await c.query('CREATE TABLE IF NOT EXISTS read_only_plain (id int)');
    await c.query('BEGIN READ ONLY');
    const err = await rejection(c.query('INSERT INTO read_only_plain VALUES (1)'));
    await c.query('ROLLBACK');
    return { code: err.code, message: err.message };
  });
});

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {});
  await Promise.all(sqls.map((sql) => sql.end({ timeout: 5 })));
  await proxy?.close();
  await withClient(directConfig(), (c) => c.query('DROP TABLE IF EXISTS read_only_plain')).catch(() => {});
  await mongo?.close();
  await graph?.close();
  await Promise.all([ferret?.stop(), graphServer?.stop(), cluster?.stop()]);
});

const notes = () => mongo.db('shop').collection('notes');

beforeEach(async () => {
  await notes().deleteMany({});
  await notes().insertOne({ title: 'kept', n: 1 });
  await graph.executeQuery('MATCH (n) DETACH DELETE n');
  await graph.executeQuery("CREATE (:Person {name: 'Alice'})");
});

const nodes = async (label: string) =>
  (await graph.executeQuery(`MATCH (n:${label}) RETURN count(n) AS n`)).records[0].get('n').toNumber();
const titles = async () => (await notes().find({}).sort({ title: 1 }).toArray()).map((d) => d.title);

const cypher = (query: string, columns = '(n agtype)') =>
  `SELECT * FROM cypher('social', $$ ${query} $$) AS ${columns}`;
const readOnlyError = (command: string) => ({
  code: '25006',
  message: `cannot execute ${command} in a read-only transaction`,
});

describe.each(['app', 'sharded'])('database %s', (database) => {
  async function open(options?: string): Promise<pg.Client> {
    const c = await connect({ ...proxy.client('app', database), ...(options && { options }) });
    clients.push(c);
    return c;
  }

  /** The statement's error inside a block opened by `begin`, rolled back afterwards. */
  async function inBlock(c: pg.Client, begin: string[], sql: string, values?: unknown[]) {
    for (const statement of begin) await c.query(statement);
    const err = await rejection(c.query(sql, values));
    await c.query('ROLLBACK');
    return { code: err.code, message: err.message };
  }

  it('BEGIN READ ONLY: documents writes answer as PostgreSQL does, reads still answer', async () => {
    const c = await open();
    const begin = ['BEGIN READ ONLY'];
    const insert = await inBlock(c, begin, "INSERT INTO docs.notes (title) VALUES ('gone')");
    expect(insert).toEqual(plainRefusal);
    expect(insert).toEqual(readOnlyError('INSERT'));
    // Parameters go by Parse/Bind/Describe/Execute: Describe answers, Execute refuses (not 0A000 for the block).
    expect(await inBlock(c, begin, 'INSERT INTO docs.notes (title) VALUES ($1)', ['gone'])).toEqual(
      readOnlyError('INSERT'),
    );
    expect(await inBlock(c, ['START TRANSACTION READ ONLY'], 'UPDATE docs.notes SET n = $1', [2])).toEqual(
      readOnlyError('UPDATE'),
    );
    expect(await inBlock(c, begin, 'DELETE FROM docs.notes')).toEqual(readOnlyError('DELETE'));
    expect(await inBlock(c, begin, 'SELECT title FROM docs.notes FOR UPDATE')).toEqual(
      readOnlyError('SELECT FOR UPDATE'),
    );
    await c.query('BEGIN READ ONLY');
    expect((await c.query('SELECT title, n FROM docs.notes WHERE n = $1', [1])).rows).toEqual([
      { title: 'kept', n: 1 },
    ]);
    expect((await c.query(cypher('MATCH (p:Person) RETURN p.name', '(name text)'))).rows).toEqual([
      { name: 'Alice' },
    ]);
    await c.query('COMMIT');
    expect(await titles()).toEqual(['kept']);
  });

  it('BEGIN READ ONLY and SET TRANSACTION READ ONLY: cypher() updating clauses answer 25006', async () => {
    const c = await open();
    expect(await inBlock(c, ['BEGIN READ ONLY'], cypher("CREATE (n:Ro {name: 'x'}) RETURN n"))).toEqual(
      readOnlyError('CREATE'),
    );
    expect(
      await inBlock(c, ['BEGIN', 'SET TRANSACTION READ ONLY'], cypher('MATCH (n) DETACH DELETE n')),
    ).toEqual(readOnlyError('DETACH DELETE'));
    expect(
      await inBlock(
        c,
        ['START TRANSACTION', 'SET transaction_read_only = on'],
        cypher('MERGE (n:Ro {name: $name}) RETURN n', '(n agtype)').replace('$$ ) AS', '$$, $1) AS'),
        [JSON.stringify({ name: 'x' })],
      ),
    ).toEqual(readOnlyError('MERGE'));
    // Documents writes in a block are refused anyway (0A000); read-only is said first, as PostgreSQL checks it first.
    expect(
      await inBlock(c, ['BEGIN', 'SET TRANSACTION READ ONLY'], "INSERT INTO docs.notes (title) VALUES ('x')"),
    ).toEqual(readOnlyError('INSERT'));
    // Made read-only after Neo4j's transaction began in write mode: a procedure call is refused by the proxy.
    expect(
      await inBlock(
        c,
        ['BEGIN', cypher('MATCH (p:Person) RETURN p'), 'SET TRANSACTION READ ONLY'],
        cypher("CALL db.createLabel('Ro')"),
      ),
    ).toEqual(readOnlyError('CALL'));
    expect(await nodes('Ro')).toBe(0);
    expect(await nodes('Person')).toBe(1);
  });

  it('follows the session default: SET default_transaction_read_only, READ WRITE blocks, RESET', async () => {
    const c = await open();
    await c.query('SET default_transaction_read_only = on');
    for (const [sql, command] of [
      ["INSERT INTO docs.notes (title) VALUES ('gone')", 'INSERT'],
      ['UPDATE docs.notes SET n = 5', 'UPDATE'],
      ['DELETE FROM docs.notes', 'DELETE'],
      [cypher('CREATE (n:Ro) RETURN n'), 'CREATE'],
    ]) {
      const err = await rejection(c.query(sql));
      expect({ code: err.code, message: err.message }).toEqual(readOnlyError(command));
    }
    // A procedure that writes runs in a Neo4j read transaction, which refuses it.
    const label = await rejection(c.query(cypher("CALL db.createLabel('Ro')", '(n agtype)')));
    expect(label.code).toBe('25006');
    expect((await c.query('SELECT title FROM docs.notes')).rows).toEqual([{ title: 'kept' }]);
    expect((await c.query(cypher('CALL db.labels() YIELD label RETURN label', '(label text)'))).rows).toEqual(
      [{ label: 'Person' }],
    );
    await c.query('BEGIN READ WRITE');
    await c.query(cypher("CREATE (n:Ro {name: 'allowed'}) RETURN n"));
    await c.query('COMMIT');
    expect(await nodes('Ro')).toBe(1);
    await c.query('RESET default_transaction_read_only');
    await c.query("INSERT INTO docs.notes (title) VALUES ('after reset')");
    expect(await titles()).toEqual(['after reset', 'kept']);
  });

  it('follows SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY, in and out of blocks', async () => {
    const c = await open();
    await c.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
    const err = await rejection(c.query("INSERT INTO docs.notes (title) VALUES ('gone')"));
    expect({ code: err.code, message: err.message }).toEqual(readOnlyError('INSERT'));
    expect(await inBlock(c, ['BEGIN'], cypher('CREATE (n:Ro) RETURN n'))).toEqual(readOnlyError('CREATE'));
    await c.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE');
    await c.query(cypher('CREATE (n:Ro) RETURN n'));
    expect(await nodes('Ro')).toBe(1);
  });

  it('follows -c default_transaction_read_only=on from the startup options', async () => {
    const c = await open('-c default_transaction_read_only=on');
    const err = await rejection(c.query('INSERT INTO docs.notes (title) VALUES ($1)', ['gone']));
    expect({ code: err.code, message: err.message }).toEqual(readOnlyError('INSERT'));
    const create = await rejection(c.query(cypher('CREATE (n:Ro) RETURN n')));
    expect({ code: create.code, message: create.message }).toEqual(readOnlyError('CREATE'));
    expect((await c.query('SELECT count(*) AS n FROM docs.notes')).rows).toEqual([{ n: '1' }]);
    await c.query('BEGIN READ WRITE');
    await c.query(cypher('CREATE (n:Ro) RETURN n'));
    await c.query('COMMIT');
    expect([await nodes('Ro'), await titles()]).toEqual([1, ['kept']]);
  });
});

// postgres.js sends ROLLBACK through the extended protocol; the sharded session answers that one with 25P02
// after a failed statement, which postgres.js reports instead of the statement's error: unsharded only.
describe('postgres.js', () => {
  it("sql.begin('read only') gets 25006 for a documents INSERT", async () => {
    const sql = postgres(proxy.url('app', 'app'), { max: 1, onnotice: () => {} });
    sqls.push(sql);
    const err = await rejection(
      sql.begin('read only', (tx) => tx`INSERT INTO docs.notes (title) VALUES (${'gone'})`),
    );
    expect({ code: (err as { code?: string }).code, message: err.message }).toEqual(readOnlyError('INSERT'));
    const rows = await sql.begin('read only', (tx) => tx`SELECT title FROM docs.notes`);
    expect([...rows]).toEqual([{ title: 'kept' }]);
    expect(await titles()).toEqual(['kept']);
  });
});
