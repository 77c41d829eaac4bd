// The PostgreSQL parser (libpg-query, WASM), loaded once; parse trees cached by statement text within a byte budget.
import { loadModule, parseSync } from 'libpg-query';
import { Lru } from './lru.js';
import { parserThread } from './parser-thread.js';
import { CACHE_BYTES, MAX_CACHED_TEXT, parsedEntryCost } from './statement-budget.js';

/** One top-level statement as libpg-query returns it: `{ SelectStmt: {...} }` and the like. */
export type StatementNode = Record<string, unknown>;

/** Where a statement lies in the text, in UTF-8 bytes; `length` 0 means to the end of the text. */
export interface StatementSpan {
  location: number;
  length: number;
}

export type ParseOutcome =
  { ok: true; statements: StatementNode[]; spans: StatementSpan[] } | { ok: false; error: string };

let loaded: Promise<void> | null = null;
const cache = new Lru<string, ParseOutcome>({
  maxEntries: 5000,
  maxBytes: CACHE_BYTES.parse,
  cost: (sql) => parsedEntryCost(sql.length, sql.length),
});

export function loadParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

export function parseCacheStats(): { hits: number; misses: number; size: number; bytes: number } {
  return { hits: cache.hits, misses: cache.misses, size: cache.size, bytes: cache.bytes };
}

/**
 * Parses SQL text; callers must have awaited loadParser() once. A large statement is parsed in the parser
 * thread while this one waits (parseAsync does not wait), so its parser memory is not kept here.
 */
export function parseSql(sql: string): ParseOutcome {
  const cached = cache.get(sql);
  if (cached) return cached;
  const outcome = parserThread.takes(sql.length)
    ? fromThread(parserThread.callSync(job(sql)))
    : parseHere(sql);
  if (sql.length <= MAX_CACHED_TEXT) cache.set(sql, outcome);
  return outcome;
}

/** parseSql without blocking the event loop on a large statement: that one is parsed in the parser thread. */
export function parseAsync(sql: string): Promise<ParseOutcome> {
  if (!parserThread.takes(sql.length)) return Promise.resolve(parseSql(sql));
  return parserThread.call(job(sql)).then(fromThread);
}

/** Parses here and now, without the cache: the parser thread's own parse. */
export function parseHere(sql: string): ParseOutcome {
  // libpg-query rejects the empty string, PostgreSQL answers it with EmptyQueryResponse.
  if (sql.trim() === '') return { ok: true, statements: [], spans: [] };
  try {
    const result = parseSync(sql) as {
      stmts?: { stmt: StatementNode; stmt_location?: number; stmt_len?: number }[];
    };
    const stmts = result.stmts ?? [];
    return {
      ok: true,
      statements: stmts.map((s) => s.stmt),
      spans: stmts.map((s) => ({ location: s.stmt_location ?? 0, length: s.stmt_len ?? 0 })),
    };
  } catch (err) {
    // A parser that ran out of memory throws emscripten's ExitStatus, which is no Error but has a message.
    return { ok: false, error: (err as { message?: string } | null)?.message ?? String(err) };
  }
}

function job(sql: string) {
  return { op: 'parse', sql } as const;
}

/** The thread answers a parse as JSON text: JSON.parse here is several times faster than a structured clone. */
function fromThread(reply: { ok: true; value: unknown } | { ok: false; error: string }): ParseOutcome {
  if (!reply.ok) return { ok: false, error: `statement not parsed: ${reply.error}` };
  return JSON.parse(reply.value as string) as ParseOutcome;
}

/** The node kind of a statement, such as "SelectStmt". */
export function statementKind(node: StatementNode): string {
  return Object.keys(node)[0] ?? '';
}
