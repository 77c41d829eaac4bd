// SQL that re-applies a session SET on another server connection, checked before anyone runs it.
import { parseSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import { parseSql, type StatementNode } from '../sql/parser.js';

/**
 * Deparses the statement and keeps the result only if it parses back to the same tree. pgsql-deparser
 * 18.3 drops the quotes of some SET values (`'x''y'` comes back as `x'y`, and a crafted value as two
 * statements); then the client's own text of that statement is used instead.
 */
export function replaySql(node: StatementNode, sql: string, index: number): string {
  let text: string | undefined;
  try {
    text = deparseSync(node as Parameters<typeof deparseSync>[0]);
  } catch {
    text = undefined;
  }
  return text !== undefined && parsesTo(text, node) ? text : statementText(sql, index);
}

function parsesTo(text: string, node: StatementNode): boolean {
  const parsed = parseSql(text);
  return (
    parsed.ok &&
    parsed.statements.length === 1 &&
    withoutLocations(parsed.statements[0]) === withoutLocations(node)
  );
}

function withoutLocations(node: StatementNode): string {
  return JSON.stringify(node, (key, value: unknown) => (key === 'location' ? undefined : value));
}

/** The client's text of statement `index`; the parser reports its place in UTF-8 bytes. */
function statementText(sql: string, index: number): string {
  const stmts = (parseSync(sql) as { stmts: { stmt_location?: number; stmt_len?: number }[] }).stmts;
  const bytes = Buffer.from(sql, 'utf8');
  const start = stmts[index]?.stmt_location ?? 0;
  const len = stmts[index]?.stmt_len || bytes.length - start;
  return bytes.toString('utf8', start, start + len).trim();
}
