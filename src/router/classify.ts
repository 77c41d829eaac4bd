// Pure statement classifier: may this SQL text run on a replica, and what session state does it carry?
import { Lru } from '../sql/lru.js';
import { parserThread } from '../sql/parser-thread.js';
import { CACHE_BYTES, MAX_CACHED_TEXT, textEntryCost } from '../sql/statement-budget.js';
import { classifyText, deepFreeze, unparseable, type Classified } from './classify-text.js';
import {
  explainRouteTarget,
  bareRouteSet,
  leadingComments,
  type LeadingComments,
} from './proxy-directives.js';
import { normalizeFunctionNames } from './side-effect-functions.js';
import { sqlShape } from './sql-shape.js';
import type { StatementInfo } from './statement-info.js';

export type { RouteOverride, SessionSet, StatementInfo, TransactionControl } from './statement-info.js';

export interface ClassifyOptions {
  /**
   * Functions that write or hold session state, beyond the built-in list; `schema.name` matches on name.
   * Pass the same Set object on every call: the cache lives per Set, and a config reload brings a new one.
   */
  readonly primaryFunctions: ReadonlySet<string>;
}

interface Caches {
  functions: ReadonlySet<string>;
  /** Results that no literal can change, keyed by sqlShape: `... WHERE aid = 1` and `= 2` share one. */
  byShape: Lru<string, StatementInfo>;
  /** Results whose values matter (SET, route override, unparseable text), keyed by the exact text. */
  byText: Lru<string, StatementInfo>;
}

/** One cache per primaryFunctions set, because the set changes verdicts. */
const cachesByOptions = new WeakMap<ReadonlySet<string>, Caches>();
const stats = { hits: 0, misses: 0 };

/**
 * Classifies a SQL text (one or more statements). Results are frozen and shared between callers.
 * Callers must have awaited loadParser() once.
 */
export function classifySql(sql: string, opts: ClassifyOptions): StatementInfo {
  const lead = leadingComments(sql);
  return withLead(classifyBody(sql, lead.bodyStart, opts), lead);
}

/**
 * classifySql without blocking the event loop on a large statement (see LARGE_STATEMENT), which is parsed
 * and classified in the parser thread; any other text is classified at once, as by classifySql.
 */
export async function classifySqlAsync(sql: string, opts: ClassifyOptions): Promise<StatementInfo> {
  if (!parserThread.takes(sql.length)) return classifySql(sql, opts);
  const lead = leadingComments(sql);
  const info = directiveAnswer(sql, lead.bodyStart);
  if (info) return withLead(info, lead);
  stats.misses++;
  const functions = cachesFor(opts.primaryFunctions).functions;
  return withLead(fromThread(await parserThread.call(classifyJob(sql, functions))), lead);
}

/** Whether classifySqlAsync may take a while for a text of this length (it is parsed in the parser thread). */
export function classifiesOffThread(textLength: number): boolean {
  return parserThread.takes(textLength);
}

// Hints live outside the caches, so a hinted text still shares its shape's entry.
function withLead(info: StatementInfo, lead: LeadingComments): StatementInfo {
  if (!lead.hint && !lead.directive) return info;
  return {
    ...info,
    ...(lead.hint && { hint: lead.hint }),
    ...(lead.directive && { directive: lead.directive }),
  };
}

/**
 * Whether `info` (just returned by classifySql for `sql`) holds for every text of the same shape: it was
 * cached by shape, so no literal, hint or directive of this text shaped it.
 */
export function classifiedByShape(sql: string, info: StatementInfo, opts: ClassifyOptions): boolean {
  if (sql.length > MAX_CACHED_TEXT) return false;
  return cachesFor(opts.primaryFunctions).byShape.get(sqlShape(sql)) === info;
}

/** Classifier cache counters for metrics: a hit skipped the parser. */
export function classifyCacheStats(): { hits: number; misses: number } {
  return { ...stats };
}

const empty: StatementInfo = Object.freeze({ access: 'read', reason: 'empty', statementCount: 0 });

/** What the proxy's own statements (EXPLAIN ROUTE, SET polyproxy.route) and blank texts are, without parsing. */
function directiveAnswer(sql: string, bodyStart: number): StatementInfo | undefined {
  // Only blanks and comments: PostgreSQL answers EmptyQueryResponse (the parser refuses '' outright).
  if (bodyStart >= sql.length) return empty;
  const target = explainRouteTarget(sql, bodyStart);
  if (target !== undefined)
    return { access: 'read', reason: 'explain-route', explainRoute: target, statementCount: 1 };
  const override = bareRouteSet(sql, bodyStart);
  if (override)
    return { access: 'read', reason: 'route-override', routeOverride: override, statementCount: 1 };
  return undefined;
}

function classifyBody(sql: string, bodyStart: number, opts: ClassifyOptions): StatementInfo {
  const answer = directiveAnswer(sql, bodyStart);
  if (answer) return answer;
  const caches = cachesFor(opts.primaryFunctions);
  if (sql.length > MAX_CACHED_TEXT) {
    stats.misses++;
    return parserThread.takes(sql.length)
      ? fromThread(parserThread.callSync(classifyJob(sql, caches.functions)))
      : classifyText(sql, caches.functions).info;
  }
  const shape = sqlShape(sql);
  const cached = caches.byShape.get(shape) ?? caches.byText.get(sql);
  if (cached) {
    stats.hits++;
    return cached;
  }
  stats.misses++;
  const { info, shapeSafe } = classifyText(sql, caches.functions);
  if (shapeSafe) caches.byShape.set(shape, info);
  else caches.byText.set(sql, info);
  return info;
}

function cachesFor(primaryFunctions: ReadonlySet<string>): Caches {
  let caches = cachesByOptions.get(primaryFunctions);
  if (!caches) {
    caches = {
      functions: normalizeFunctionNames(primaryFunctions),
      byShape: new Lru({
        maxEntries: 5000,
        maxBytes: CACHE_BYTES.classifyByShape,
        cost: (key) => textEntryCost(key.length),
      }),
      byText: new Lru({
        maxEntries: 1000,
        maxBytes: CACHE_BYTES.classifyByText,
        cost: (key) => textEntryCost(key.length),
      }),
    };
    cachesByOptions.set(primaryFunctions, caches);
  }
  return caches;
}

function classifyJob(sql: string, functions: ReadonlySet<string>) {
  return { op: 'classify', sql, functions: [...functions] } as const;
}

/** The thread's classification (frozen again: the copy that crossed threads is not); a failed thread's is unparseable's. */
function fromThread(reply: { ok: true; value: unknown } | { ok: false; error: string }): StatementInfo {
  return reply.ok ? deepFreeze((reply.value as Classified).info) : unparseable();
}
