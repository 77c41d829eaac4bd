// The graph plugin against a real Neo4j 5.26: AGE-style cypher() reads, writes, parameters, paths, typed columns,
// errors, concurrency and SQL-block transactions, compared with what neo4j-driver returns for the same Cypher.
import neo4j, { type Driver } from 'neo4j-driver';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PluginError, type StatementResult } from '../../src/plugins/api.js';
import { freePort } from '../../src/sandbox/ports.js';
import { startNeo4j, type Neo4jServer } from '../../src/sandbox/neo4j.js';
import { registerGraph, type GraphHarness } from '../unit/plugins/graph-neo4j/harness.js';
import { statementFrom, TestSession } from '../unit/plugins/graph-neo4j/statement.js';

let server: Neo4jServer;
let direct: Driver;
let graph: GraphHarness;

const socialFixture = `
  CREATE (alice:Person {name: 'Alice', age: 30}), (bob:Person {name: 'Bob', age: 25}),
         (carol:Person:Admin {name: 'Carol', age: 35}), (dave:Person {name: 'Dave', age: 40}),
         (paris:City {name: 'Paris'}),
         (alice)-[:KNOWS {since: 2010}]->(bob), (bob)-[:KNOWS {since: 2015}]->(carol),
         (alice)-[:KNOWS {since: 2020}]->(carol), (carol)-[:KNOWS {since: 2021}]->(dave),
         (alice)-[:LIVES_IN]->(paris)`;

async function directRun(cypher: string, params: Record<string, unknown> = {}) {
  const { records } = await direct.executeQuery(cypher, params);
  return records;
}

async function sql(text: string, opts: Parameters<typeof statementFrom>[1] = {}): Promise<StatementResult> {
  return graph.handler.execute(await statementFrom(text, opts));
}

async function failure(text: string, opts: Parameters<typeof statementFrom>[1] = {}): Promise<PluginError> {
  try {
    await sql(text, opts);
  } catch (err) {
    if (err instanceof PluginError) return err;
    throw err;
  }
  throw new Error(`expected ${text} to fail`);
}

const count = async (cypher: string) => (await directRun(cypher))[0].get(0).toNumber() as number;

beforeAll(async () => {
  server = await startNeo4j();
  direct = neo4j.driver(server.url);
  await direct.executeQuery('CREATE CONSTRAINT person_name FOR (p:Person) REQUIRE p.name IS UNIQUE');
  graph = await registerGraph({ url: server.url, graphs: { social: null, missing: 'nosuchdb' } });
});

afterAll(async () => {
  await graph?.stop();
  await direct?.close();
  await server?.stop();
});

beforeEach(async () => {
  await direct.executeQuery('MATCH (n) DETACH DELETE n');
  await direct.executeQuery(socialFixture);
});

describe('graph plugin on Neo4j', () => {
  it('claims cypher(), also schema-qualified as AGE installs it', () => {
    expect(graph.claim.functions).toEqual(['cypher', 'ag_catalog.cypher']);
  });

  it('reads scalars as agtype text, the same rows neo4j-driver returns', async () => {
    const cypher = 'MATCH (a:Person)-[k:KNOWS]->(b) RETURN a.name, b.name, k.since ORDER BY k.since';
    const result = await sql(
      `SELECT * FROM cypher('social', $$ ${cypher} $$) AS (a agtype, b agtype, since agtype)`,
    );
    const expected = (await directRun(cypher)).map((r) => [
      JSON.stringify(r.get(0)),
      JSON.stringify(r.get(1)),
      r.get(2).toString(),
    ]);
    expect(result.rows).toEqual(expected);
    expect(result.rows[0]).toEqual(['"Alice"', '"Bob"', '2010']);
    expect(result.columns).toEqual([
      { name: 'a', typeOid: 25, typeModifier: -1 },
      { name: 'b', typeOid: 25, typeModifier: -1 },
      { name: 'since', typeOid: 25, typeModifier: -1 },
    ]);
    expect(result.command).toBe('SELECT 4');
  });

  it('renders vertices and edges with Neo4j ids, in AGE form', async () => {
    const cypher = "MATCH (a:Person {name: 'Bob'})-[k:KNOWS]->(b) RETURN a, k, b";
    const [row] = (
      await sql(`SELECT * FROM cypher('social', $$ ${cypher} $$) AS (a agtype, k agtype, b agtype)`)
    ).rows;
    const [record] = await directRun(cypher);
    const bob = record.get('a');
    const knows = record.get('k');
    const carol = record.get('b');
    expect(row).toEqual([
      `{"id": ${bob.identity}, "label": "Person", "properties": {"age": 25, "name": "Bob"}}::vertex`,
      `{"id": ${knows.identity}, "label": "KNOWS", "end_id": ${carol.identity}, "start_id": ${bob.identity}, "properties": {"since": 2015}}::edge`,
      `{"id": ${carol.identity}, "label": "Person:Admin", "properties": {"age": 35, "name": "Carol"}}::vertex`,
    ]);
  });

  it('renders paths as [vertex, edge, vertex, ...]::path', async () => {
    const cypher = "MATCH p = (:Person {name: 'Alice'})-[:KNOWS*2]->(:Person {name: 'Dave'}) RETURN p";
    const [[path]] = (await sql(`SELECT * FROM cypher('social', $$ ${cypher} $$) AS (p agtype)`)).rows;
    const [record] = await directRun(cypher);
    const ids = [
      record.get('p').start,
      ...record
        .get('p')
        .segments.flatMap((s: { relationship: unknown; end: unknown }) => [s.relationship, s.end]),
    ].map((e: { identity: { toString(): string } }) => e.identity.toString());
    expect(path!.endsWith(']::path')).toBe(true);
    expect([...path!.matchAll(/\{"id": (\d+), "label": "(\w+(?::\w+)?)"/g)].map((m) => [m[1], m[2]])).toEqual(
      [
        [ids[0], 'Person'],
        [ids[1], 'KNOWS'],
        [ids[2], 'Person:Admin'],
        [ids[3], 'KNOWS'],
        [ids[4], 'Person'],
      ],
    );
    expect(path!.match(/::vertex/g)).toHaveLength(3);
    expect(path!.match(/::edge/g)).toHaveLength(2);
  });

  it('renders lists, maps, floats and nulls; a Cypher null is SQL NULL', async () => {
    const result = await sql(
      "SELECT * FROM cypher('social', $$ RETURN [1, 2.0, 'x', null], {b: 1, a: [true]}, 0.5, null $$) AS (l agtype, m agtype, f agtype, n agtype)",
    );
    expect(result.rows).toEqual([['[1, 2.0, "x", null]', '{"a": [true], "b": 1}', '0.5', null]]);
  });

  it('converts typed columns to PostgreSQL text forms and reports their OIDs', async () => {
    const result = await sql(
      "SELECT * FROM cypher('social', $$ MATCH (p:Person) RETURN p.name, p.age, p.age / 10.0, p.age > 30, date('2024-05-06'), p ORDER BY p.age $$) " +
        'AS (name text, age int, decade float8, senior boolean, day date, doc jsonb)',
    );
    expect(result.columns!.map((c) => c.typeOid)).toEqual([25, 23, 701, 16, 1082, 3802]);
    const direct = await directRun('MATCH (p:Person) RETURN p.name, p.age, p ORDER BY p.age');
    expect(result.rows.map((r) => r.slice(0, 2))).toEqual(direct.map((r) => [r.get(0), r.get(1).toString()]));
    expect(result.rows[0].slice(2, 5)).toEqual(['2.5', 'f', '2024-05-06']);
    expect(JSON.parse(result.rows[0][5]!)).toEqual({
      id: direct[0].get(2).identity.toNumber(),
      label: 'Person',
      properties: { age: 25, name: 'Bob' },
    });
  });

  it('projects and renames defined columns', async () => {
    const result = await sql(
      "SELECT c.name AS who, age FROM cypher('social', $$ MATCH (p:Person {name: 'Dave'}) RETURN p.age, p.name $$) AS c(age int, name text)",
    );
    expect(result.columns!.map((c) => c.name)).toEqual(['who', 'age']);
    expect(result.rows).toEqual([['Dave', '40']]);
  });

  it('binds Cypher parameters from a JSON map in $1, integers staying INTEGER', async () => {
    const cypher =
      'MATCH (p:Person) WHERE p.age >= $min AND p.name IN $names RETURN p.name, $min ORDER BY p.name';
    const result = await sql(
      `SELECT * FROM cypher('social', $$ ${cypher} $$, $1) AS (name agtype, min agtype)`,
      {
        params: ['{"min": 30, "names": ["Alice", "Bob", "Dave"]}'],
      },
    );
    const expected = await directRun(cypher, { min: neo4j.int(30), names: ['Alice', 'Bob', 'Dave'] });
    expect(result.rows).toEqual(expected.map((r) => [JSON.stringify(r.get(0)), r.get(1).toString()]));
    expect(result.rows).toEqual([
      ['"Alice"', '30'],
      ['"Dave"', '30'],
    ]);
  });

  it('writes outside a block commit at once, in a write transaction', async () => {
    const result = await sql(
      "SELECT * FROM cypher('social', $$ CREATE (e:Person {name: $name, age: 22}) RETURN e.name $$, $1) AS (name agtype)",
      { params: ['{"name": "Eve"}'] },
    );
    expect(result.rows).toEqual([['"Eve"']]);
    expect(await count("MATCH (p:Person {name: 'Eve'}) RETURN count(p)")).toBe(1);
    const noReturn = await sql(
      "SELECT * FROM cypher('social', $$ MATCH (p:Person {name: 'Eve'}) DETACH DELETE p $$) AS (a agtype)",
    );
    expect([noReturn.rows, noReturn.command]).toEqual([[], 'SELECT 0']);
    expect(await count("MATCH (p:Person {name: 'Eve'}) RETURN count(p)")).toBe(0);
  });

  it('joins a SQL transaction block: visible inside, committed at COMMIT', async () => {
    const session = new TestSession();
    session.begin();
    await sql(
      "SELECT * FROM cypher('social', $$ CREATE (:Person {name: 'Frank', age: 50}) $$) AS (a agtype)",
      { session },
    );
    await sql(
      "SELECT * FROM cypher('social', $$ MATCH (f:Person {name: 'Frank'}) SET f.age = 51 $$) AS (a agtype)",
      { session },
    );
    const inside = await sql(
      "SELECT * FROM cypher('social', $$ MATCH (f:Person {name: 'Frank'}) RETURN f.age $$) AS (age int)",
      { session },
    );
    expect(inside.rows).toEqual([['51']]);
    expect(session.enlisted).toBe(1);
    expect(await count("MATCH (p:Person {name: 'Frank'}) RETURN count(p)")).toBe(0);
    await session.commit();
    expect(await count("MATCH (p:Person {name: 'Frank', age: 51}) RETURN count(p)")).toBe(1);
  });

  it('rolls back the Cypher work at ROLLBACK', async () => {
    const session = new TestSession();
    session.begin();
    await sql("SELECT * FROM cypher('social', $$ MATCH (p:Person) DETACH DELETE p $$) AS (a agtype)", {
      session,
    });
    const inside = await sql(
      "SELECT * FROM cypher('social', $$ MATCH (p:Person) RETURN count(p) $$) AS (n int)",
      {
        session,
      },
    );
    expect(inside.rows).toEqual([['0']]);
    await session.rollback();
    expect(await count('MATCH (p:Person) RETURN count(p)')).toBe(4);
  });

  it('fails a block statement on a missing database cleanly, and ROLLBACK still ends the block', async () => {
    const session = new TestSession();
    session.begin();
    const err = await failure("SELECT * FROM cypher('missing', $$ RETURN 1 $$) AS (a agtype)", { session });
    expect(err.sqlstate).toBe('3F000');
    await session.rollback();
    const after = await sql(
      "SELECT * FROM cypher('social', $$ MATCH (p:Person) RETURN count(p) $$) AS (n int)",
      {
        session,
      },
    );
    expect(after.rows).toEqual([['4']]);
  });

  it('keeps concurrent blocks of different clients apart', async () => {
    const first = new TestSession();
    const second = new TestSession();
    first.begin();
    second.begin();
    await sql("SELECT * FROM cypher('social', $$ CREATE (:Person {name: 'Gina'}) $$) AS (a agtype)", {
      session: first,
    });
    await sql("SELECT * FROM cypher('social', $$ CREATE (:Person {name: 'Hugo'}) $$) AS (a agtype)", {
      session: second,
    });
    const seenBySecond = await sql(
      "SELECT * FROM cypher('social', $$ MATCH (p:Person) WHERE p.name IN ['Gina', 'Hugo'] RETURN p.name $$) AS (n text)",
      { session: second },
    );
    expect(seenBySecond.rows).toEqual([['Hugo']]);
    await first.commit();
    await second.rollback();
    expect(
      (await directRun("MATCH (p:Person) WHERE p.name IN ['Gina', 'Hugo'] RETURN p.name")).map((r) =>
        r.get(0),
      ),
    ).toEqual(['Gina']);
  });

  it('answers many clients at once, reads and writes mixed', async () => {
    const clients = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? sql("SELECT * FROM cypher('social', $$ MATCH (p:Person) RETURN count(p) >= 4 $$) AS (ok boolean)")
        : sql(
            "SELECT * FROM cypher('social', $$ CREATE (p:Person {name: $name}) RETURN p.name $$, $1) AS (n text)",
            {
              params: [JSON.stringify({ name: `client-${i}` })],
            },
          ),
    );
    const results = await Promise.all(clients);
    results.forEach((r, i) => expect(r.rows).toEqual([[i % 2 === 0 ? 't' : `client-${i}`]]));
    expect(await count("MATCH (p:Person) WHERE p.name STARTS WITH 'client-' RETURN count(p)")).toBe(10);
  });

  it('maps Neo4j errors to SQLSTATEs with Neo4j messages', async () => {
    const syntax = await failure("SELECT * FROM cypher('social', $$ MATCH (n RETURN n $$) AS (n agtype)");
    expect(syntax.sqlstate).toBe('42601');
    expect(syntax.message).toMatch(/Invalid input/);
    const unique = await failure(
      "SELECT * FROM cypher('social', $$ CREATE (:Person {name: 'Alice'}) $$) AS (a agtype)",
    );
    expect(unique.sqlstate).toBe('23505');
    expect(unique.message).toMatch(/already exists/);
    const missingParam = await failure("SELECT * FROM cypher('social', $$ RETURN $nope $$) AS (a agtype)");
    expect(missingParam.sqlstate).toBe('42P02');
    const typeError = await failure(
      "SELECT * FROM cypher('social', $$ UNWIND [1, 'text'] AS v RETURN v * 2 $$) AS (a agtype)",
    );
    expect([typeError.sqlstate, typeError.hint]).toEqual([
      '22023',
      'Neo4j status Neo.ClientError.Statement.TypeError.',
    ]);
    const badDivision = await failure("SELECT * FROM cypher('social', $$ RETURN 1 / 0 $$) AS (a agtype)");
    expect(badDivision.sqlstate).toBe('22012');
  });

  it('reports unknown graphs and missing Neo4j databases as 3F000', async () => {
    const unknown = await failure("SELECT * FROM cypher('nope', $$ RETURN 1 $$) AS (a agtype)");
    expect([unknown.sqlstate, unknown.message]).toEqual(['3F000', 'graph "nope" does not exist']);
    const missingDatabase = await failure("SELECT * FROM cypher('missing', $$ RETURN 1 $$) AS (a agtype)");
    expect(missingDatabase.sqlstate).toBe('3F000');
    expect(missingDatabase.message).toMatch(/nosuchdb/);
  });

  it('refuses a RETURN that does not match the column definition list (42804)', async () => {
    const err = await failure("SELECT * FROM cypher('social', $$ RETURN 1, 2 $$) AS (a agtype)");
    expect(err.sqlstate).toBe('42804');
  });

  it('refuses SQL around cypher() that only PostgreSQL could run (0A000)', async () => {
    const err = await failure(
      "SELECT * FROM cypher('social', $$ MATCH (p:Person) RETURN p.age $$) AS (age int) WHERE age > 30",
    );
    expect(err.sqlstate).toBe('0A000');
  });

  it('describes result columns without running anything', async () => {
    const description = await graph.handler.describe(
      await statementFrom("SELECT * FROM cypher('social', $$ CREATE (x) $$) AS (a agtype, n bigint)"),
    );
    expect(description.columns).toEqual([
      { name: 'a', typeOid: 25, typeModifier: -1 },
      { name: 'n', typeOid: 20, typeModifier: -1 },
    ]);
    expect(await count('MATCH (n) WHERE NOT n:Person AND NOT n:City RETURN count(n)')).toBe(0);
  });

  it('explains the Cypher, the database and the transaction mode', async () => {
    const read = await statementFrom(
      "SELECT * FROM cypher('social', $$ MATCH (n) RETURN n $$, $1) AS (n agtype)",
      {
        params: ['{}'],
      },
    );
    expect(graph.handler.explain!(read)).toBe(
      'Cypher on Neo4j database "neo4j" (graph "social") in a read transaction with parameters from $1: MATCH (n) RETURN n',
    );
    const write = await statementFrom(
      "SELECT * FROM cypher('missing', $$ MERGE (n:X) RETURN n $$) AS (n agtype)",
    );
    expect(graph.handler.explain!(write)).toBe(
      'Cypher on Neo4j database "nosuchdb" (graph "missing") in a write transaction: MERGE (n:X) RETURN n',
    );
    const refused = await statementFrom("SELECT * FROM cypher('nope', $$ RETURN 1 $$) AS (n agtype)");
    expect(graph.handler.explain!(refused)).toBe('refused with 3F000: graph "nope" does not exist');
  });
});

describe('graph plugin over a neo4j:// (routing) URL', () => {
  it('reads and writes through the routing driver too', async () => {
    const routed = await registerGraph({
      url: server.url.replace('bolt://', 'neo4j://'),
      graphs: { social: null },
    });
    try {
      const write = await routed.handler.execute(
        await statementFrom(
          "SELECT * FROM cypher('social', $$ CREATE (p:Person {name: 'Ivy'}) RETURN p.name $$) AS (n text)",
        ),
      );
      const read = await routed.handler.execute(
        await statementFrom(
          "SELECT * FROM cypher('social', $$ MATCH (p:Person {name: 'Ivy'}) RETURN count(p) $$) AS (n int)",
        ),
      );
      expect([write.rows, read.rows]).toEqual([[['Ivy']], [['1']]]);
    } finally {
      await routed.stop();
    }
  });
});

describe('graph plugin with Neo4j down', () => {
  it('fails graph statements with 08006 and a clear message', async () => {
    const port = await freePort();
    const down = await registerGraph({
      url: `bolt://127.0.0.1:${port}`,
      graphs: { social: null },
      connect_timeout: '500ms',
      max_retry_time: '200ms',
    });
    try {
      const stmt = await statementFrom("SELECT * FROM cypher('social', $$ RETURN 1 $$) AS (a agtype)");
      const err = await down.handler.execute(stmt).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PluginError);
      expect((err as PluginError).sqlstate).toBe('08006');
      expect((err as PluginError).message).toMatch(/^Neo4j is unavailable: /);
    } finally {
      await down.stop();
    }
  });
});
