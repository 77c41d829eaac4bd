// Pure statement classifier: may this SQL text run on a replica, and what session state does it carry?
import { Lru } from '../sql/lru.js';
import { parseSql } from '../sql/parser.js';
import { classifyStatement } from './classify-statement.js';
import { explainRouteTarget, bareRouteSet, leadingComments } from './proxy-directives.js';
import { normalizeFunctionNames } from './side-effect-functions.js';
import { sqlShape } from './sql-shape.js';
import { statementObjects } from './statement-objects.js';
import type { StatementInfo } from './statement-info.js';
import { mergeVerdicts } from './merge-verdicts.js';

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
  const info = classifyBody(sql, lead.bodyStart, opts);
  // Hints live outside the caches, so a hinted text still shares its shape's entry.
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
  return cachesFor(opts.primaryFunctions).byShape.get(sqlShape(sql)) === info;
}

/** Classifier cache counters for metrics: a hit skipped the parser. */
export function classifyCacheStats(): { hits: number; misses: number } {
  return { ...stats };
}

const empty: StatementInfo = Object.freeze({ access: 'read', reason: 'empty', statementCount: 0 });

function classifyBody(sql: string, bodyStart: number, opts: ClassifyOptions): StatementInfo {
  // Only blanks and comments: PostgreSQL answers EmptyQueryResponse (the parser refuses '' outright).
  if (bodyStart >= sql.length) return empty;
  const target = explainRouteTarget(sql, bodyStart);
  if (target !== undefined)
    return { access: 'read', reason: 'explain-route', explainRoute: target, statementCount: 1 };
  const override = bareRouteSet(sql, bodyStart);
  if (override)
    return { access: 'read', reason: 'route-override', routeOverride: override, statementCount: 1 };
  const caches = cachesFor(opts.primaryFunctions);
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
      byShape: new Lru(5000),
      byText: new Lru(1000),
    };
    cachesByOptions.set(primaryFunctions, caches);
  }
  return caches;
}

function classifyText(
  sql: string,
  functions: ReadonlySet<string>,
): { info: StatementInfo; shapeSafe: boolean } {
  const parsed = parseSql(sql);
  // PostgreSQL may accept what this parser version does not; only the primary is safe for it.
  if (!parsed.ok)
    return {
      info: deepFreeze({ access: 'write', reason: 'unparseable', statementCount: 1 }),
      shapeSafe: false,
    };
  const verdicts = parsed.statements.map((node, index) => classifyStatement(node, { sql, index, functions }));
  const objects = statementObjects(parsed.statements);
  const sideEffect = verdicts.some((v) => v.reason.startsWith('side-effect-function'));
  const info = deepFreeze({
    ...mergeVerdicts(verdicts),
    objects: sideEffect ? { ...objects, writes: [...objects.writes, '*'] } : objects,
  });
  const shapeSafe = !verdicts.some((v) => v.literalSensitive) && !info.sets && !info.routeOverride;
  return { info, shapeSafe };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
