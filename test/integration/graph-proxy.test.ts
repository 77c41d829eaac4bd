// cypher() end to end: node-postgres through a running polyproxy with `plugins.graph` on a real Neo4j 5.26.
import neo4j, { type Driver } from 'neo4j-driver';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startNeo4j, type Neo4jServer } from '../../src/sandbox/neo4j.js';
import { freePort } from '../../src/sandbox/ports.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';

let server: Neo4jServer;
let direct: Driver;
let proxy: TestProxy;
let downProxy: TestProxy;
const clients: pg.Client[] = [];

async function connect(): Promise<pg.Client> {
  const client = new pg.Client(proxy.client());
  await client.connect();
  clients.push(client);
  return client;
}

const people = async () =>
  (await direct.executeQuery('MATCH (p:Person) RETURN p.name ORDER BY p.name')).records.map((r) => r.get(0));

beforeAll(async () => {
  server = await startNeo4j();
  direct = neo4j.driver(server.url);
  const downPort = await freePort();
  proxy = await startTestProxy({
    pluginsYaml: [`  graph:`, `    url: ${server.url}`, `    graphs: { social: neo4j }`].join('\n'),
  });
  // A second proxy whose Neo4j is down shows that only graph statements are affected.
  downProxy = await startTestProxy({
    pluginsYaml: [
      `  graph:`,
      `    url: bolt://127.0.0.1:${downPort}`,
      `    connect_timeout: 500ms`,
      `    max_retry_time: 200ms`,
      `    graphs: { social: ~ }`,
    ].join('\n'),
  });
});

afterAll(async () => {
  for (const client of clients) await client.end();
  await proxy?.close();
  await downProxy?.close();
  await direct?.close();
  await server?.stop();
});

beforeEach(async () => {
  await direct.executeQuery('MATCH (n) DETACH DELETE n');
  await direct.executeQuery(
    "CREATE (a:Person {name: 'Alice', age: 30})-[:KNOWS {since: 2010}]->(b:Person {name: 'Bob', age: 25})",
  );
});

describe('cypher() through polyproxy', () => {
  it('answers the simple protocol with agtype text and typed columns', async () => {
    const client = await connect();
    const res = await client.query(
      "SELECT * FROM cypher('social', $$ MATCH (a:Person)-[k:KNOWS]->(b) RETURN a.name, b.name, k.since, a.age $$) AS (a agtype, b agtype, since agtype, age int)",
    );
    expect(res.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ['a', 25],
      ['b', 25],
      ['since', 25],
      ['age', 23],
    ]);
    expect(res.rows).toEqual([{ a: '"Alice"', b: '"Bob"', since: '2010', age: 30 }]);
  });

  it('binds the parameters map through the extended protocol', async () => {
    const client = await connect();
    const res = await client.query(
      "SELECT * FROM cypher('social', $$ MATCH (p:Person) WHERE p.age > $min RETURN p.name $$, $1) AS (name text)",
      [JSON.stringify({ min: 26 })],
    );
    expect(res.rows).toEqual([{ name: 'Alice' }]);
    const query = {
      name: 'people-older-than',
      text: "SELECT * FROM cypher('social', $$ MATCH (p:Person) WHERE p.age > $min RETURN p.name ORDER BY p.name $$, $1) AS (name text)",
    };
    const all = await client.query({ ...query, values: [JSON.stringify({ min: 0 })] });
    const none = await client.query({ ...query, values: [JSON.stringify({ min: 99 })] });
    expect([all.rows, none.rows]).toEqual([[{ name: 'Alice' }, { name: 'Bob' }], []]);
  });

  it('answers several clients at once', async () => {
    const connected = await Promise.all(Array.from({ length: 6 }, () => connect()));
    const answers = await Promise.all(
      connected.map((client, i) =>
        client.query(
          "SELECT * FROM cypher('social', $$ CREATE (p:Person {name: $name}) RETURN p.name $$, $1) AS (name text)",
          [JSON.stringify({ name: `client-${i}` })],
        ),
      ),
    );
    expect(answers.map((a) => a.rows[0].name)).toEqual(connected.map((_, i) => `client-${i}`));
    expect(await people()).toEqual(['Alice', 'Bob', ...connected.map((_, i) => `client-${i}`)]);
  });

  it('commits Cypher work with the SQL block and rolls it back with ROLLBACK', async () => {
    const client = await connect();
    await client.query('BEGIN');
    await client.query(
      "SELECT * FROM cypher('social', $$ CREATE (:Person {name: 'Carol'}) $$) AS (a agtype)",
    );
    const inside = await client.query(
      "SELECT * FROM cypher('social', $$ MATCH (p:Person) RETURN count(p) $$) AS (n bigint)",
    );
    expect(inside.rows).toEqual([{ n: '3' }]);
    expect(await people()).toEqual(['Alice', 'Bob']);
    await client.query('COMMIT');
    expect(await people()).toEqual(['Alice', 'Bob', 'Carol']);

    await client.query('BEGIN');
    await client.query(
      "SELECT * FROM cypher('social', $$ MATCH (p:Person {name: 'Alice'}) DETACH DELETE p $$) AS (a agtype)",
    );
    await client.query('ROLLBACK');
    expect(await people()).toEqual(['Alice', 'Bob', 'Carol']);
  });

  it('shows the Cypher, database and transaction mode in EXPLAIN ROUTE', async () => {
    const client = await connect();
    const res = await client.query(
      "EXPLAIN ROUTE SELECT * FROM cypher('social', $$ MATCH (p:Person) RETURN p $$) AS (p agtype)",
    );
    const cells = res.rows.flatMap((row: Record<string, unknown>) => Object.values(row).map(String));
    expect(cells).toContainEqual(
      expect.stringContaining(
        'plugin=graph Cypher on Neo4j database "neo4j" (graph "social") in a read transaction: MATCH (p:Person) RETURN p',
      ),
    );
  });

  it('sends Neo4j errors with their SQLSTATE, and the session keeps working', async () => {
    const client = await connect();
    const err = await client
      .query("SELECT * FROM cypher('social', $$ MATCH (n RETURN n $$) AS (n agtype)")
      .then(
        () => undefined,
        (e: unknown) => e as pg.DatabaseError,
      );
    expect(err?.code).toBe('42601');
    const unsupported = await client
      .query("SELECT * FROM cypher('social', $$ RETURN 1 $$) AS (n agtype) ORDER BY n")
      .then(
        () => undefined,
        (e: unknown) => e as pg.DatabaseError,
      );
    expect(unsupported?.code).toBe('0A000');
    const ok = await client.query('SELECT 1 AS one');
    expect(ok.rows).toEqual([{ one: 1 }]);
  });

  it('with Neo4j down, fails graph statements with 08006 while SQL keeps working', async () => {
    const client = new pg.Client(downProxy.client());
    await client.connect();
    clients.push(client);
    const err = await client.query("SELECT * FROM cypher('social', $$ RETURN 1 $$) AS (n agtype)").then(
      () => undefined,
      (e: unknown) => e as pg.DatabaseError,
    );
    expect(err?.code).toBe('08006');
    expect(err?.message).toMatch(/^Neo4j is unavailable/);
    const ok = await client.query('SELECT 2 AS two');
    expect(ok.rows).toEqual([{ two: 2 }]);
  });
});
