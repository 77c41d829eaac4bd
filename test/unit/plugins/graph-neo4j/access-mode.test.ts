// Read or write transaction for a Cypher query, from its clauses (strings, names and comments ignored).
import { describe, expect, it } from 'vitest';
import { accessMode } from '../../../../src/plugins/builtin/graph-neo4j/access-mode.js';

describe('accessMode', () => {
  it.each([
    'MATCH (a:Person)-[:KNOWS]->(b) RETURN a.name, b.name',
    "MATCH (n {name: 'CREATE me'}) RETURN n",
    'MATCH (n) WHERE n.set = 1 RETURN n.delete, $create',
    'MATCH (n) RETURN n // DELETE n',
    'MATCH (n) /* SET n.x = 1 */ RETURN `MERGE`',
    'CALL { MATCH (n) RETURN n } RETURN n',
    'RETURN "REMOVE"',
  ])('reads: %s', (query) => {
    expect(accessMode(query)).toBe('read');
  });

  it.each([
    "CREATE (:Person {name: 'Eve'})",
    'MATCH (n) SET n.x = 1',
    'merge (n:Person {name: $name}) return n',
    'MATCH (n) DETACH DELETE n',
    'MATCH (n) REMOVE n:Admin',
    'MATCH (n) FOREACH (x IN [1] | SET n.y = x)',
    'CALL db.createLabel("X")',
    "LOAD CSV FROM 'file:///x' AS row RETURN row",
  ])('writes: %s', (query) => {
    expect(accessMode(query)).toBe('write');
  });
});
