// Which reads are cached and for how long: plain SELECTs outside transactions, on listed tables or asked
// for by a `/* polyproxy: cache ttl=60 */` hint.
import { parseDuration } from '../../../config/duration.js';
import { findInTree } from '../../../router/ast-walk.js';
import { statementKind } from '../../../sql/parser.js';
import type { Statement } from '../../api.js';
import type { CacheConfig } from './config.js';

export type CacheHint = { readonly cache: false } | { readonly cache: true; readonly ttlMs?: number };

/**
 * `cache`, `cache ttl=60` (seconds), `cache ttl=5m`, `cache off`, `nocache`; words may be separated by spaces
 * or commas. Undefined when the hint is about something else, or unreadable (then nothing is cached for it).
 */
export function parseCacheHint(hint: string | undefined): CacheHint | undefined {
  const words =
    hint
      ?.toLowerCase()
      .split(/[\s,]+/)
      .filter(Boolean) ?? [];
  if (words[0] === 'nocache' || words[0] === 'no-cache') return { cache: false };
  if (words[0] !== 'cache') return undefined;
  let ttlMs: number | undefined;
  for (const word of words.slice(1)) {
    if (word === 'off' || word === 'no' || word === 'false') return { cache: false };
    const ttl = /^ttl=(.+)$/.exec(word)?.[1];
    if (ttl === undefined) return undefined;
    try {
      // A bare number is seconds here, as a TTL is usually spoken of.
      ttlMs = /^\d+$/.test(ttl) ? Number(ttl) * 1000 : parseDuration(ttl);
    } catch {
      return undefined;
    }
    if (ttlMs <= 0) return { cache: false };
  }
  return { cache: true, ttlMs };
}

/** Cached tables by exact name, and those listed without a schema by their bare name. */
export class TableTtls {
  private readonly exact = new Map<string, number | null>();
  /** Listed as `s.t`: an unqualified `t` in a statement may be that table. */
  private readonly byBareName = new Map<string, number | null>();

  constructor(tables: CacheConfig['tables']) {
    const entries: [string, number | null][] = Array.isArray(tables)
      ? tables.map((t) => [t.toLowerCase(), null])
      : Object.entries(tables).map(([t, ttl]) => [t.toLowerCase(), ttl]);
    for (const [name, ttl] of entries) {
      this.exact.set(name, ttl);
      const dot = name.lastIndexOf('.');
      if (dot >= 0) this.byBareName.set(name.slice(dot + 1), ttl);
    }
  }

  /** The table's TTL (null: default_ttl), or undefined when it is not listed. */
  ttlOf(table: string): number | null | undefined {
    const dot = table.lastIndexOf('.');
    if (dot < 0) return this.exact.has(table) ? this.exact.get(table) : this.byBareName.get(table);
    return this.exact.has(table) ? this.exact.get(table) : this.exact.get(table.slice(dot + 1));
  }
}

export type CacheVerdict =
  { readonly cache: true; readonly ttlMs: number } | { readonly cache: false; readonly reason: string };

const dataModifying = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/** Why a statement's result must not be reused, judging by its syntax alone; undefined for a plain SELECT. */
function syntaxReason(stmt: Statement): string | undefined {
  if (statementKind(stmt.ast) !== 'SelectStmt') return 'not-select';
  let reason: string | undefined;
  findInTree(stmt.ast, (key, value) => {
    if (dataModifying.has(key)) reason = 'writes';
    else if (key === 'intoClause' && value != null) reason = 'select-into';
    else if (key === 'lockingClause' && Array.isArray(value) && value.length > 0) reason = 'locking';
    return reason !== undefined;
  });
  return reason;
}

export class CachePolicy {
  private readonly tables: TableTtls;

  constructor(private readonly config: Pick<CacheConfig, 'tables' | 'default_ttl'>) {
    this.tables = new TableTtls(config.tables);
  }

  /** Whether this statement's result may be served from the cache and stored in it, and for how long. */
  verdict(stmt: Statement): CacheVerdict {
    if (stmt.session.inTransaction) return { cache: false, reason: 'transaction' };
    const hint = parseCacheHint(stmt.hint);
    if (hint && !hint.cache) return { cache: false, reason: 'hint-off' };
    if (stmt.volatile) return { cache: false, reason: 'volatile' };
    const syntax = syntaxReason(stmt);
    if (syntax) return { cache: false, reason: syntax };
    const ttls = stmt.tables.map((t) => this.tables.ttlOf(t));
    const listed = ttls.length > 0 && ttls.every((ttl) => ttl !== undefined);
    if (!listed && !hint)
      return { cache: false, reason: stmt.tables.length ? 'table-not-listed' : 'no-tables' };
    const tableTtl = listed ? Math.min(...ttls.map((ttl) => ttl ?? this.config.default_ttl)) : undefined;
    return { cache: true, ttlMs: hint?.ttlMs ?? tableTtl ?? this.config.default_ttl };
  }
}
