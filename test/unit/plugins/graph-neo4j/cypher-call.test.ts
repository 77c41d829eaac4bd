// cypher() extraction from parsed SQL: arguments, column definition lists, select lists, and SQL we refuse (0A000).
import { describe, expect, it } from 'vitest';
import { PluginError } from '../../../../src/plugins/api.js';
import { extractCypherCall } from '../../../../src/plugins/builtin/graph-neo4j/cypher-call.js';
import { statementFrom } from './statement.js';

const call = async (sql: string) => extractCypherCall((await statementFrom(sql)).ast);

async function refusal(sql: string): Promise<PluginError> {
  try {
    await call(sql);
  } catch (err) {
    if (err instanceof PluginError) return err;
    throw err;
  }
  throw new Error(`expected ${sql} to be refused`);
}

describe('extractCypherCall', () => {
  it('reads graph, dollar-quoted query and agtype columns as Apache AGE writes them', async () => {
    const c = await call(
      "SELECT * FROM cypher('social', $$ MATCH (a:Person)-[:KNOWS]->(b) RETURN a.name, b.name $$) AS (a agtype, b agtype)",
    );
    expect(c.graph).toBe('social');
    expect(c.query).toBe(' MATCH (a:Person)-[:KNOWS]->(b) RETURN a.name, b.name ');
    expect(c.params).toEqual({ kind: 'none' });
    expect(c.defined.map((d) => [d.name, d.type.kind, d.type.oid])).toEqual([
      ['a', 'agtype', 25],
      ['b', 'agtype', 25],
    ]);
    expect(c.output.map((o) => [o.name, o.field])).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
  });

  it('keeps quotes and dollar signs inside a tagged dollar-quoted query', async () => {
    const c = await call(
      "SELECT * FROM cypher('g', $cy$ MATCH (n {name: 'O''Neil $$'}) RETURN n $cy$) AS (n agtype)",
    );
    expect(c.query).toBe(" MATCH (n {name: 'O''Neil $$'}) RETURN n ");
  });

  it('takes the parameters map from a bound parameter, also with a cast', async () => {
    expect((await call("SELECT * FROM cypher('g', $$ RETURN $x $$, $1) AS (x agtype)")).params).toEqual({
      kind: 'bound',
      number: 1,
    });
    expect(
      (await call("SELECT * FROM cypher('g', $$ RETURN $x $$, $2::agtype) AS (x agtype)")).params,
    ).toEqual({ kind: 'bound', number: 2 });
  });

  it('takes the parameters map from a constant, and NULL as no parameters', async () => {
    const literal = await call(`SELECT * FROM cypher('g', $$ RETURN $x $$, '{"x": 1}') AS (x agtype)`);
    expect(literal.params).toEqual({ kind: 'literal', text: '{"x": 1}' });
    const none = await call("SELECT * FROM cypher('g', $$ RETURN 1 $$, NULL) AS (x agtype)");
    expect(none.params).toEqual({ kind: 'none' });
  });

  it('accepts a schema-qualified call and a graph name cast to name', async () => {
    const c = await call("SELECT * FROM ag_catalog.cypher('g'::name, $$ RETURN 1 $$) AS (x agtype)");
    expect(c.graph).toBe('g');
  });

  it('resolves typed columns to their PostgreSQL OIDs', async () => {
    const c = await call(
      "SELECT * FROM cypher('g', $$ RETURN 1 $$) AS (a text, b int, c bigint, d double precision, e numeric(10,2), f boolean, g jsonb, h varchar(5), i timestamptz, j date, k smallint, l real, m json, n timestamp)",
    );
    expect(c.defined.map((d) => d.type.oid)).toEqual([
      25, 23, 20, 701, 1700, 16, 3802, 1043, 1184, 1082, 21, 700, 114, 1114,
    ]);
  });

  it('projects, reorders and renames defined columns, also qualified by the alias', async () => {
    const c = await call("SELECT t.b AS second, a FROM cypher('g', $$ RETURN 1, 2 $$) AS t(a agtype, b int)");
    expect(c.output.map((o) => [o.name, o.field, o.type.kind])).toEqual([
      ['second', 1, 'int4'],
      ['a', 0, 'agtype'],
    ]);
  });

  it.each([
    ["SELECT * FROM cypher('g', $$ RETURN 1 $$) AS (a agtype) WHERE a IS NOT NULL", 'WHERE'],
    ["SELECT * FROM cypher('g', $$ RETURN 1 $$) AS (a agtype) ORDER BY a", 'ORDER BY'],
    ["SELECT * FROM cypher('g', $$ RETURN 1 $$) AS (a agtype) LIMIT 1", 'LIMIT'],
    ["SELECT DISTINCT * FROM cypher('g', $$ RETURN 1 $$) AS (a agtype)", 'DISTINCT'],
    ["SELECT count(*) FROM cypher('g', $$ RETURN 1 $$) AS (a agtype)", 'select list'],
    ["SELECT * FROM users, cypher('g', $$ RETURN 1 $$) AS (a agtype)", 'join'],
    ["SELECT * FROM users JOIN cypher('g', $$ RETURN 1 $$) AS c(a agtype) ON true", 'join'],
    ["SELECT * FROM cypher('g', $$ RETURN 1 $$) AS (a agtype) UNION SELECT 1", 'UNION'],
    ["WITH x AS (SELECT 1) SELECT * FROM cypher('g', $$ RETURN 1 $$) AS (a agtype)", 'WITH'],
    ["SELECT cypher('g', $$ RETURN 1 $$)", 'outside FROM'],
    ["INSERT INTO t SELECT * FROM cypher('g', $$ RETURN 1 $$) AS (a agtype)", 'InsertStmt'],
    ["SELECT * FROM cypher('g', $$ RETURN 1 $$) WITH ORDINALITY AS (a agtype)", 'ORDINALITY'],
  ])('refuses %s with 0A000', async (sql, words) => {
    const err = await refusal(sql);
    expect(err.sqlstate).toBe('0A000');
    expect(err.message).toContain(words);
  });

  it('requires a column definition list (42601)', async () => {
    const err = await refusal("SELECT * FROM cypher('g', $$ RETURN 1 $$)");
    expect(err.sqlstate).toBe('42601');
    expect(err.message).toContain('column definition list');
  });

  it('refuses column types it cannot produce', async () => {
    const array = await refusal("SELECT * FROM cypher('g', $$ RETURN [1] $$) AS (a int[])");
    expect([array.sqlstate, array.message]).toEqual([
      '0A000',
      'type pg_catalog.int4[] of column "a" is not supported in a cypher() column definition list',
    ]);
    expect((await refusal("SELECT * FROM cypher('g', $$ RETURN 1 $$) AS (a uuid)")).sqlstate).toBe('0A000');
    expect((await refusal("SELECT * FROM cypher('g', $$ RETURN 1 $$) AS (a myschema.agtype)")).sqlstate).toBe(
      '0A000',
    );
  });

  it('requires constant graph and query arguments (22023)', async () => {
    expect((await refusal('SELECT * FROM cypher($1, $$ RETURN 1 $$) AS (a agtype)')).sqlstate).toBe('22023');
    expect((await refusal("SELECT * FROM cypher('g', $1) AS (a agtype)")).sqlstate).toBe('22023');
    expect((await refusal("SELECT * FROM cypher('g') AS (a agtype)")).sqlstate).toBe('22023');
    expect((await refusal("SELECT * FROM cypher('g', $$ RETURN 1 $$, 42) AS (a agtype)")).sqlstate).toBe(
      '22023',
    );
  });
});
