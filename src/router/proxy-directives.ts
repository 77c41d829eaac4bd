// Directives for the proxy that PostgreSQL never sees: hints in leading comments, EXPLAIN ROUTE, bare route SETs.
import type { RouteOverride } from './statement-info.js';
import { skipBlockComment, skipLineComment } from './sql-lexer.js';

export interface LeadingComments {
  /** The first `polyproxy: primary|replica` comment before the first token. */
  hint?: 'primary' | 'replica';
  /** The words of the first other `polyproxy: ...` comment, for plugins (e.g. `cache ttl=60`). */
  directive?: string;
  /** Where the statement text proper starts. */
  bodyStart: number;
}

const hintPattern = /^\s*polyproxy\s*:\s*(primary|replica)\b/i;
const directivePattern = /^\s*polyproxy\s*:\s*(.*?)\s*(\*\/)?\s*$/is;

/** Reads the comments before the first token, where ORMs and people put per-statement hints. */
export function leadingComments(sql: string): LeadingComments {
  let hint: 'primary' | 'replica' | undefined;
  let directive: string | undefined;
  let i = 0;
  for (;;) {
    while (i < sql.length && isSpace(sql.charCodeAt(i))) i++;
    let end: number;
    if (sql.startsWith('/*', i)) end = skipBlockComment(sql, i);
    else if (sql.startsWith('--', i)) end = skipLineComment(sql, i);
    else return { hint, directive, bodyStart: i };
    const text = sql.slice(i + 2, end);
    const routeHint = hintPattern.exec(text)?.[1]?.toLowerCase() as typeof hint;
    hint ??= routeHint;
    if (!routeHint) directive ??= directivePattern.exec(text)?.[1] || undefined;
    i = end;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Whether the character at i is the given lower-case ASCII letter, in either case. */
function startsWithLetter(sql: string, i: number, lower: number): boolean {
  return (sql.charCodeAt(i) | 0x20) === lower;
}

const explainRoutePattern = /explain\s+route\b/iy;

/** The statement after `EXPLAIN ROUTE` (trimmed, '' when none), or undefined when the text is no EXPLAIN ROUTE. */
export function explainRouteTarget(sql: string, bodyStart: number): string | undefined {
  // A one-character check first: this runs for every simple-protocol statement, and almost none is EXPLAIN.
  if (!startsWithLetter(sql, bodyStart, 0x65 /* e */)) return undefined;
  explainRoutePattern.lastIndex = bodyStart;
  if (!explainRoutePattern.test(sql)) return undefined;
  return sql.slice(explainRoutePattern.lastIndex).trim();
}

const routeSetPattern =
  /set\s+(?:session\s+)?polyproxy\.route\s*(?:=|\sto\s)\s*(?:'(primary|replica|auto)'|(primary|replica|auto)\b)\s*;?\s*$/iy;

/**
 * `SET polyproxy.route = primary` as a whole statement. PRIMARY is a reserved word, so PostgreSQL's
 * parser rejects the unquoted form; the proxy still accepts it because it answers this SET itself.
 */
export function bareRouteSet(sql: string, bodyStart: number): RouteOverride | undefined {
  if (!startsWithLetter(sql, bodyStart, 0x73 /* s */) || !startsWithLetter(sql, bodyStart + 2, 0x74 /* t */))
    return undefined;
  routeSetPattern.lastIndex = bodyStart;
  const m = routeSetPattern.exec(sql);
  return m ? ((m[1] ?? m[2]).toLowerCase() as RouteOverride) : undefined;
}
