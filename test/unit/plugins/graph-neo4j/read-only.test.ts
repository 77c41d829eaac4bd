// cypher() in a read-only SQL transaction: updating clauses refused with 25006 before Neo4j is asked; reads and EXPLAIN still answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PluginError } from '../../../../src/plugins/api.js';
import { updatingClause } from '../../../../src/plugins/builtin/graph-neo4j/access-mode.js';
import { registerGraph, type GraphHarness } from './harness.js';
import { statementFrom, TestSession } from './statement.js';

let graph: GraphHarness;

beforeAll(async () => {
  // Nothing listens there: a statement that reached Neo4j would fail with 08006, not 25006.
  graph = await registerGraph({
    url: 'bolt://127.0.0.1:1',
    graphs: { social: 'neo4j' },
    max_retry_time: '1ms',
  });
});

afterAll(() => graph.stop());

const readOnly = () => Object.assign(new TestSession(), { readOnly: true });
const cypher = (query: string) => `SELECT * FROM cypher('social', $$ ${query} $$) AS (n agtype)`;

describe('updatingClause', () => {
  it.each([
    ["CREATE (:Person {name: 'Eve'})", 'CREATE'],
    ['MATCH (n) DETACH  DELETE n', 'DETACH DELETE'],
    ['MATCH (n) delete n', 'DELETE'],
    ['merge (n:P) return n', 'MERGE'],
    ['MATCH (n) SET n.x = 1', 'SET'],
    ['MATCH (n) REMOVE n:Admin', 'REMOVE'],
    ["MATCH (n {name: 'CREATE'}) RETURN n // SET", undefined],
    ['CALL db.createLabel("X")', undefined],
  ])('%s names %s', (query, clause) => {
    expect(updatingClause(query)).toBe(clause);
  });
});

describe('cypher() in a read-only transaction', () => {
  it.each([
    ['CREATE (n:Person) RETURN n', 'CREATE'],
    ['MATCH (n) DETACH DELETE n', 'DETACH DELETE'],
  ])('refuses %s before Neo4j is asked', async (query, clause) => {
    for (const session of [readOnly(), Object.assign(readOnly(), { inTransaction: true })]) {
      const err = await graph.handler.execute(await statementFrom(cypher(query), { session })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PluginError);
      expect([(err as PluginError).sqlstate, (err as PluginError).message]).toEqual([
        '25006',
        `cannot execute ${clause} in a read-only transaction`,
      ]);
      expect(session.enlisted).toBe(0);
    }
  });

  it('still describes the write, and EXPLAIN ROUTE says it would be refused', async () => {
    const stmt = await statementFrom(cypher('CREATE (n) RETURN n'), { session: readOnly() });
    expect(await graph.handler.describe(stmt)).toEqual({
      columns: [{ name: 'n', typeOid: 25, typeModifier: -1 }],
    });
    expect(await graph.handler.explain!(stmt)).toBe(
      'refused with 25006: cannot execute CREATE in a read-only transaction',
    );
  });

  it('explains reads and procedure calls as Neo4j read transactions', async () => {
    const session = readOnly();
    const read = await statementFrom(cypher('MATCH (n) RETURN n'), { session });
    expect(await graph.handler.explain!(read)).toContain('in a read transaction');
    const call = await statementFrom(cypher('CALL db.labels() YIELD label RETURN label'), { session });
    expect(await graph.handler.explain!(call)).toContain('in a read transaction');
    session.begin();
    expect(await graph.handler.explain!(read)).toContain("in the SQL block's read transaction");
  });
});
