// Statements that differ only in their literals share one parse: the literals become a template's parameters.
//
// `SELECT … WHERE aid = 17` and `… = 42` route alike, so the second need not go through the parser: its
// literals are lifted out as text values for $1, $2, … of the template parsed once, and the router reads
// the key from those values as it does for a Bind. A template is used only after the router gave the
// same answer for it as for the statement it was learned from.
import { Lru } from '../../sql/lru.js';
import { CACHE_BYTES, MAX_CACHED_TEXT, parsedEntryCost } from '../../sql/statement-budget.js';
import { scanLiterals } from '../sql-shape.js';
import type { Node, ParamValues } from './ast-values.js';
import type { ShardMap } from './shard-map.js';
import type { CachedKeyRoute } from './key-param-route.js';

export interface Template {
  /** Cache key: the template text and what kind of literal each parameter replaced. */
  key: string;
  /** The statement with its lifted literals written as $1, $2, … */
  text: string;
  /** The lifted literals' values, $1 first. */
  values: string[];
}

/** Where a statement went: the part of a route a template must reproduce. */
export interface RouteTarget {
  shard: number;
  write: boolean;
}

const plainInteger = /^[0-9]+$/;
const plainString = /^'(?:[^']|'')*'$/;
/** A string right after one of these may be typed (`date '…'`) or prefixed (`U&'…'`, `b'…'`): kept as written. */
const stringBlocker = /[A-Za-z0-9_$&\u0080-\uffff]/;
/** A number after a sign (`-5` is one constant to the parser, `-$1` an expression): kept as written. */
const numberBlocker = /[+-]/;
const parameterRef = /\$[0-9]/;

/**
 * The template of a statement: its plain integer and plain '…' string literals lifted out. Null when
 * nothing can be lifted, or when the text already names parameters (which a simple query cannot bind).
 * Other literals (decimals, E'…' and dollar-quoted strings, signed or typed ones) stay in the text.
 */
export function templateOf(sql: string): Template | null {
  let text = '';
  let kinds = '';
  let copied = 0;
  let refused = false;
  const values: string[] = [];
  scanLiterals(sql, (start, end, kind) => {
    const literal = sql.slice(start, end);
    let value: string;
    if (kind === 'number' && plainInteger.test(literal)) value = literal;
    else if (kind === 'string' && plainString.test(literal))
      value = literal.slice(1, -1).replaceAll("''", "'");
    else return;
    const before = previousToken(sql, start);
    if ((kind === 'number' ? numberBlocker : stringBlocker).test(before)) return;
    const gap = sql.slice(copied, start);
    if (parameterRef.test(gap)) refused = true;
    values.push(value);
    kinds += kind === 'number' ? 'i' : 's';
    text += gap + '$' + values.length;
    copied = end;
  });
  if (refused || values.length === 0) return null;
  const tail = sql.slice(copied);
  if (parameterRef.test(tail)) return null;
  text += tail;
  return { key: kinds + '\n' + text, text, values };
}

/** The last non-blank character before `at` (empty at the start). */
function previousToken(sql: string, at: number): string {
  let i = at - 1;
  while (i >= 0 && (sql[i] === ' ' || sql[i] === '\t' || sql[i] === '\n' || sql[i] === '\r')) i--;
  return i >= 0 ? sql[i] : '';
}

/** The lifted values as bound parameters. */
export function templateParams(t: Template): ParamValues {
  return (n) => t.values[n - 1];
}

/** A template learned: its parse, and what the caller knows holds for every statement of it. */
export interface Learned<Info> {
  stmt: Node;
  info?: Info;
  /** The key route derived from the parse, kept by the fast path. */
  keyRoute?: CachedKeyRoute;
}

/**
 * Parsed templates by key, within a byte budget; null marks a template the router answers differently for,
 * never used. Templates longer than MAX_CACHED_TEXT are not learned: their statements are parsed each time.
 */
export class RouteTemplates<Info = unknown> {
  private readonly parsed = new Lru<string, Learned<Info> | null>({
    maxEntries: 2000,
    maxBytes: CACHE_BYTES.routeTemplates,
    // The key holds the template text; a refused template keeps no parse.
    cost: (key, learned) => parsedEntryCost(key.length, learned ? key.length : 0),
  });

  /** The learned template, null when it must not be used, undefined when not learned yet. */
  get(t: Template): Learned<Info> | null | undefined {
    return this.parsed.get(t.key);
  }

  /**
   * Learns a template from a statement the router sent to `target`: kept when routing the parsed template
   * with the statement's literals as parameters gives the same target, refused for good otherwise.
   */
  learn(
    t: Template,
    target: RouteTarget,
    parse: (text: string) => Node | null,
    route: (stmt: Node, params: ParamValues) => RouteTarget | null,
    info?: Info,
  ): void {
    if (t.key.length > MAX_CACHED_TEXT) return;
    const stmt = parse(t.text);
    const again = stmt ? route(stmt, templateParams(t)) : null;
    const same = again !== null && again.shard === target.shard && again.write === target.write;
    this.parsed.set(t.key, same ? { stmt: stmt!, info } : null);
  }
}

/** One set of templates per shard map: a reload with another map starts afresh. */
const byMap = new WeakMap<ShardMap, RouteTemplates<never>>();

export function routeTemplatesFor<Info>(map: ShardMap): RouteTemplates<Info> {
  let t = byMap.get(map);
  if (!t) byMap.set(map, (t = new RouteTemplates()));
  return t as RouteTemplates<Info>;
}
