// How much memory the statement caches may hold, and which statements are too large to cache or to parse on the event loop.

/** Statements longer than this (in characters) are parsed and classified every time, never cached. */
export const MAX_CACHED_TEXT = 64 * 1024;

/** Statements at least this long are parsed in the parser thread, so other clients are not stalled. */
export const LARGE_STATEMENT = 256 * 1024;

/** Byte budgets of the caches on the statement path (each also keeps its own entry count limit). */
export const CACHE_BYTES = {
  /** Parse trees by statement text (src/sql/parser.ts). */
  parse: 32 * 1024 * 1024,
  /** Classifications by statement shape (src/router/classify.ts). */
  classifyByShape: 8 * 1024 * 1024,
  /** Classifications whose literals matter, by statement text. */
  classifyByText: 4 * 1024 * 1024,
  /** Parsed route templates of a sharded database (src/router/sharding/route-templates.ts). */
  routeTemplates: 16 * 1024 * 1024,
};

/** Map entry, key string header and the small objects around a value. */
const ENTRY_OVERHEAD = 256;

/**
 * A parse tree as JavaScript objects takes 10 to 45 bytes per character of its text (measured with
 * libpg-query 18: 43 for short SELECTs, 30 for joins, 23 for multi-row VALUES, 16 for integer IN lists).
 */
const TREE_BYTES_PER_CHAR = 32;

/** Estimated bytes of a cache entry holding a text (its key) and a parse tree of a text of `parsedLength`. */
export function parsedEntryCost(keyLength: number, parsedLength: number): number {
  return ENTRY_OVERHEAD + keyLength + parsedLength * TREE_BYTES_PER_CHAR;
}

/** Estimated bytes of a cache entry holding a text (its key) and a small value. */
export function textEntryCost(keyLength: number): number {
  return ENTRY_OVERHEAD * 4 + keyLength;
}
