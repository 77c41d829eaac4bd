// Decides whether a Cypher query may write, so reads run in Neo4j read transactions (and on cluster followers).
export type AccessMode = 'read' | 'write';

/** Strings, quoted names and comments are blanked first so `{name: 'SET'}` or `// DELETE` never count. */
const literalsAndComments = /'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`|\/\/[^\n]*|\/\*[\s\S]*?\*\//g;

/**
 * Updating clauses, plus procedure calls (`CALL db.x()`), which may write; a CALL { subquery } is judged by its
 * contents. A keyword after `.` or `$` is a property or parameter name, not a clause.
 */
const writeClause =
  /(?<![.$\w])(?:(?:CREATE|MERGE|SET|DELETE|DETACH|REMOVE|DROP|FOREACH|LOAD\s+CSV)(?!\w)|CALL\s+(?=[\w`]))/i;

export function accessMode(cypher: string): AccessMode {
  const code = cypher.replace(literalsAndComments, ' ');
  return writeClause.test(code) ? 'write' : 'read';
}
