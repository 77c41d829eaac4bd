// The PostgreSQL parser (libpg-query, WASM), loaded once and cached by statement text.
import { loadModule, parseSync } from 'libpg-query';
import { Lru } from './lru.js';

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
const cache = new Lru<string, ParseOutcome>(5000);

export function loadParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

export function parseCacheStats(): { hits: number; misses: number; size: number } {
  return { hits: cache.hits, misses: cache.misses, size: cache.size };
}

/** Parses SQL text; callers must have awaited loadParser() once. */
export function parseSql(sql: string): ParseOutcome {
  const cached = cache.get(sql);
  if (cached) return cached;
  let outcome: ParseOutcome;
  // libpg-query rejects the empty string, PostgreSQL answers it with EmptyQueryResponse.
  if (sql.trim() === '') return { ok: true, statements: [], spans: [] };
  try {
    const result = parseSync(sql) as {
      stmts?: { stmt: StatementNode; stmt_location?: number; stmt_len?: number }[];
    };
    const stmts = result.stmts ?? [];
    outcome = {
      ok: true,
      statements: stmts.map((s) => s.stmt),
      spans: stmts.map((s) => ({ location: s.stmt_location ?? 0, length: s.stmt_len ?? 0 })),
    };
  } catch (err) {
    outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  cache.set(sql, outcome);
  return outcome;
}

/** The node kind of a statement, such as "SelectStmt". */
export function statementKind(node: StatementNode): string {
  return Object.keys(node)[0] ?? '';
}
