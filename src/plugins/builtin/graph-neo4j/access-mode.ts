// Decides whether a Cypher query may write, so reads run in Neo4j read transactions (and on cluster followers).
export type AccessMode = 'read' | 'write';

/** Strings, quoted names and comments are blanked first so `{name: 'SET'}` or `// DELETE` never count. */
const literalsAndComments = /'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`]*`|\/\/[^\n]*|\/\*[\s\S]*?\*\//g;

/** A keyword after `.` or `$` is a property or parameter name, not a clause. */
const updating =
  /(?<![.$\w])(?:CREATE|MERGE|SET|DETACH\s+DELETE|DELETE|DETACH|REMOVE|DROP|FOREACH|LOAD\s+CSV)(?!\w)/i;

/** Procedure calls (`CALL db.x()`) may write; a CALL { subquery } is judged by its contents. */
const procedureCall = /(?<![.$\w])CALL\s+(?=[\w`])/i;

const code = (cypher: string) => cypher.replace(literalsAndComments, ' ');

export function accessMode(cypher: string): AccessMode {
  const text = code(cypher);
  return updating.test(text) || procedureCall.test(text) ? 'write' : 'read';
}

/**
 * The first updating clause, upper-case (`CREATE`, `DETACH DELETE`), to name in a read-only refusal. Procedure
 * calls are not named: only Neo4j knows whether one writes, and its read transactions refuse those that do.
 */
export function updatingClause(cypher: string): string | undefined {
  return updating.exec(code(cypher))?.[0].toUpperCase().replace(/\s+/g, ' ');
}
