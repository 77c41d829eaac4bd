// Semi-join reduction of coordinator statements: postgres_fdw never sends a join with a local (reference)
// table to the shards, so a sharded table joined to a filtered reference table would be pulled whole. For
// each `sharded.col = reference.col` of an inner join, this finds the query over the reference side whose
// answer holds every key that can match; the caller runs it and adds `sharded.col = ANY('{…}')`.
import type { Node } from '../../router/sharding/ast-values.js';
import { andArgs, andOf, collectSelects, plainExpression, sameType } from './coordinator-ast.js';

/** What the reduction needs to know of a relation named in a statement. */
export interface RelationFacts {
  kind: 'sharded' | 'reference' | 'other';
  columns: { name: string; type: string; collation: string | null }[];
}

/** Facts of a relation by name, or null when it is unknown or ambiguous (then it is never reduced). */
export type RelationLookup = (relname: string) => RelationFacts | null;

/** One filter to add: `column = ANY(keys)` in `select`'s WHERE, the keys being keySql's answer. */
export interface Reduction {
  keySql: Node;
  select: Node;
  column: Node;
  type: string;
}

interface Item {
  refname: string;
  rangeVar: Node;
  facts: RelationFacts;
  /** On an inner-join path from the top of FROM (not the nullable side of an outer join). */
  inner: boolean;
}

interface Scope {
  items: Item[];
  /** Subqueries, functions, aliased or USING joins: their columns are unknown here. */
  opaque: boolean;
  /** Conjuncts every result row satisfies: WHERE's, and the ON quals of inner joins on an inner path. */
  conjuncts: Node[];
}

/** The reductions of a statement (a deep copy the caller may change), every SELECT in it on its own. */
export function reductionsOf(stmt: Node, lookup: RelationLookup): Reduction[] {
  const ctes = new Set<string>();
  const selects: Node[] = [];
  collectSelects(stmt, ctes, selects);
  return selects.flatMap((select) => reductionsOfSelect(select, lookup, ctes));
}

function reductionsOfSelect(select: Node, lookup: RelationLookup, ctes: Set<string>): Reduction[] {
  const from = select.fromClause as Node[] | undefined;
  if (!from?.length) return [];
  const scope: Scope = { items: [], opaque: false, conjuncts: [] };
  for (const f of from) walkFrom(f, true, scope, lookup, ctes);
  scope.conjuncts.push(...andArgs(select.whereClause as Node | undefined));
  // A correlated subquery runs once per outer row: its filter would be sent to the shards each time.
  if (correlated(scope)) return [];
  const components = referenceComponents(scope);
  const out: Reduction[] = [];
  for (const c of scope.conjuncts) {
    const pair = columnEquality(c);
    if (!pair) continue;
    for (const [a, b] of [pair, [pair[1], pair[0]]]) {
      const sharded = resolve(a, scope);
      const reference = resolve(b, scope);
      if (!sharded?.item.inner || sharded.item.facts.kind !== 'sharded') continue;
      if (!reference?.item.inner || reference.item.facts.kind !== 'reference') continue;
      if (!sameType(sharded.column, reference.column)) continue;
      const component = components.get(reference.item)!;
      const filters = componentFilters(component, scope);
      // An unfiltered reference side gives every key: a long list that filters nothing out.
      if (filters.every((f) => columnEquality(f))) continue;
      out.push({
        keySql: keyQuery(b, component, filters),
        select,
        column: a,
        type: sharded.column.type,
      });
    }
  }
  return out;
}

function walkFrom(node: Node, inner: boolean, scope: Scope, lookup: RelationLookup, ctes: Set<string>): void {
  const rv = node.RangeVar as Node | undefined;
  if (rv) {
    const relname = rv.relname as string;
    const facts = rv.schemaname === undefined && ctes.has(relname) ? null : lookup(relname);
    if (!facts) return void (scope.opaque = true);
    const refname = ((rv.alias as Node | undefined)?.aliasname as string | undefined) ?? relname;
    scope.items.push({ refname, rangeVar: node, facts, inner });
    return;
  }
  const join = node.JoinExpr as Node | undefined;
  if (!join || join.alias || join.isNatural || (join.usingClause as unknown[] | undefined)?.length) {
    scope.opaque = true;
    return;
  }
  const type = join.jointype as string;
  const left = inner && (type === 'JOIN_INNER' || type === 'JOIN_LEFT');
  const right = inner && (type === 'JOIN_INNER' || type === 'JOIN_RIGHT');
  if (!['JOIN_INNER', 'JOIN_LEFT', 'JOIN_RIGHT', 'JOIN_FULL'].includes(type)) scope.opaque = true;
  walkFrom(join.larg as Node, left, scope, lookup, ctes);
  walkFrom(join.rarg as Node, right, scope, lookup, ctes);
  if (inner && type === 'JOIN_INNER') scope.conjuncts.push(...andArgs(join.quals as Node | undefined));
}

/** `a = b` between two column references, or null. */
function columnEquality(node: Node): [Node, Node] | null {
  const e = node.A_Expr as Node | undefined;
  if (!e || e.kind !== 'AEXPR_OP') return null;
  const name = e.name as Node[];
  if (name.length !== 1 || (name[0].String as Node | undefined)?.sval !== '=') return null;
  const l = e.lexpr as Node | undefined;
  const r = e.rexpr as Node | undefined;
  return l?.ColumnRef && r?.ColumnRef ? [l, r] : null;
}

type Resolved = { item: Item; column: RelationFacts['columns'][number] };

/** The item and column a reference names in this scope, or null (an outer reference, or unknown). */
function resolve(ref: Node, scope: Scope): Resolved | null {
  const fields = ((ref.ColumnRef as Node).fields as Node[]).map(
    (f) => (f.String as Node | undefined)?.sval as string | undefined,
  );
  if (fields.some((f) => f === undefined)) return null;
  const has = (item: Item, name: string) => item.facts.columns.find((c) => c.name === name);
  if (fields.length === 2) {
    const items = scope.items.filter((i) => i.refname === fields[0]);
    const column = items.length === 1 ? has(items[0], fields[1]!) : undefined;
    return column ? { item: items[0], column } : null;
  }
  if (fields.length !== 1 || scope.opaque) return null;
  const found = scope.items.filter((i) => has(i, fields[0]!));
  return found.length === 1 ? { item: found[0], column: has(found[0], fields[0]!)! } : null;
}

/** Whether the SELECT's conditions name a column of an enclosing query (subqueries of its own aside). */
function correlated(scope: Scope): boolean {
  if (scope.opaque) return false;
  let outer = false;
  const visit = (n: unknown): void => {
    if (outer || n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(visit);
    for (const key in n as Node) {
      const value = (n as Node)[key];
      if (key === 'SubLink') continue;
      if (key === 'ColumnRef') outer = resolve({ ColumnRef: value }, scope) === null;
      else visit(value);
    }
  };
  scope.conjuncts.forEach(visit);
  return outer;
}

/** Inner reference items, grouped by the column equalities that join them. */
function referenceComponents(scope: Scope): Map<Item, Set<Item>> {
  const of = new Map<Item, Set<Item>>();
  for (const item of scope.items)
    if (item.inner && item.facts.kind === 'reference') of.set(item, new Set([item]));
  for (const c of scope.conjuncts) {
    const pair = columnEquality(c);
    const a = pair && resolve(pair[0], scope)?.item;
    const b = pair && resolve(pair[1], scope)?.item;
    if (!a || !b || !of.has(a) || !of.has(b) || of.get(a) === of.get(b)) continue;
    const merged = new Set([...of.get(a)!, ...of.get(b)!]);
    for (const item of merged) of.set(item, merged);
  }
  return of;
}

/** Whether a filter reads only plain values of the component's columns. */
function within(node: Node, component: Set<Item>, scope: Scope): boolean {
  return plainExpression(node, (ref) => {
    const item = resolve(ref, scope)?.item;
    return item !== undefined && component.has(item);
  });
}

/**
 * The filters of the statement the component's rows must pass: its own conjuncts, and from an OR whose
 * every arm restricts the component, the OR of those restrictions (implied by it, so never too strict).
 */
function componentFilters(component: Set<Item>, scope: Scope): Node[] {
  const filters: Node[] = [];
  for (const c of scope.conjuncts) {
    if (within(c, component, scope)) {
      filters.push(c);
      continue;
    }
    const bool = c.BoolExpr as Node | undefined;
    if (bool?.boolop !== 'OR_EXPR') continue;
    const arms = (bool.args as Node[]).map((arm) => andArgs(arm).filter((a) => within(a, component, scope)));
    if (arms.every((a) => a.length > 0))
      filters.push({ BoolExpr: { boolop: 'OR_EXPR', args: arms.map(andOf) } });
  }
  return filters;
}

/** The key limit's query: up to one key more than the limit, so the caller can tell it was exceeded. */
export const keyLimit = 10_000;

function keyQuery(column: Node, component: Set<Item>, filters: Node[]): Node {
  const notNull = { NullTest: { arg: column, nulltesttype: 'IS_NOT_NULL' } };
  return {
    SelectStmt: {
      distinctClause: [{}],
      targetList: [{ ResTarget: { val: column } }],
      fromClause: [...component].map((i) => i.rangeVar),
      whereClause: andOf([...filters, notNull]),
      limitCount: { A_Const: { ival: { ival: keyLimit + 1 } } },
      limitOption: 'LIMIT_OPTION_COUNT',
      op: 'SETOP_NONE',
    },
  };
}

/** Adds `column = ANY(literal::type[])` to the reduction's SELECT; `typeName` is the array type's node. */
export function addKeyFilter(r: Reduction, keys: string[], typeName: Node): void {
  const literal = `{${keys.map((k) => `"${k.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`).join(',')}}`;
  const filter = {
    A_Expr: {
      kind: 'AEXPR_OP_ANY',
      name: [{ String: { sval: '=' } }],
      lexpr: r.column,
      rexpr: { TypeCast: { arg: { A_Const: { sval: { sval: literal } } }, typeName } },
    },
  };
  const where = r.select.whereClause as Node | undefined;
  r.select.whereClause = andOf([...andArgs(where), filter]);
}
