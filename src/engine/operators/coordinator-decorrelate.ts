// Decorrelation of coordinator statements: a WHERE conjunct `outer OP (SELECT agg(x) FROM … WHERE inner.k =
// outer.k AND …)` runs its subquery once per outer row, each a scan on the shards. When exact, it becomes a
// join with `(SELECT inner.k, agg(x) FROM … WHERE … GROUP BY inner.k)`, read once (and then open to the
// semi-join reduction, which skips correlated subqueries).
import type { Node } from '../../router/sharding/ast-values.js';
import { andArgs, andOf, collectSelects, plainExpression, sameType } from './coordinator-ast.js';
import { deparseSql } from '../../sql/deparse.js';
import { parseHere } from '../../sql/parser.js';
import type { RelationFacts, RelationLookup } from './coordinator-reduction.js';
import { deparsesFaithfully } from './coordinator-semijoin.js';

/** On in service; the TPC-H comparison turns it off to measure what it saves. */
export const decorrelation = { enabled: true };

const rewrites = new WeakMap<Node, { stmt: Node; sql: string } | null>();

/**
 * The statement decorrelated, as parsed back from its text (so later rewrites see a parser's tree), or
 * null when nothing applies or the tree would not be written back faithfully.
 */
export function decorrelated(stmt: Node, lookup: RelationLookup): { stmt: Node; sql: string } | null {
  if (!decorrelation.enabled) return null;
  let done = rewrites.get(stmt);
  if (done === undefined) {
    done = null;
    const copy = structuredClone(stmt);
    if (deparsesFaithfully(stmt) && decorrelate(copy, lookup) > 0) {
      const sql = deparseSql(copy);
      const back = parseHere(sql);
      if (back.ok && back.statements.length === 1) done = { stmt: back.statements[0] as Node, sql };
    }
    rewrites.set(stmt, done);
  }
  return done;
}

interface Item {
  refname: string;
  facts: RelationFacts;
}

type Column = RelationFacts['columns'][number];
type Resolved = { scope: 'inner' | 'outer'; column: Column } | null;

/** Aggregates that give NULL over no rows: a missing group then fails the conjunct as NULL did. */
const nullOnEmpty = new Set(['min', 'max', 'sum', 'avg']);

/** Subquery clauses any of which makes it more than one plain aggregate row. */
const clauses = [
  'groupClause',
  'havingClause',
  'limitCount',
  'limitOffset',
  'distinctClause',
  'sortClause',
  'windowClause',
  'withClause',
  'intoClause',
  'lockingClause',
  'valuesLists',
];

/** Rewrites the statement in place; returns how many conjuncts it decorrelated. */
export function decorrelate(stmt: Node, lookup: RelationLookup): number {
  const ctes = new Set<string>();
  const selects: Node[] = [];
  collectSelects(stmt, ctes, selects);
  const counter = { n: 0 };
  for (const select of selects) decorrelateSelect(select, lookup, ctes, counter);
  return counter.n;
}

function decorrelateSelect(
  select: Node,
  lookup: RelationLookup,
  ctes: Set<string>,
  counter: { n: number },
): void {
  const from = select.fromClause as Node[] | undefined;
  if (!from?.length || !select.whereClause) return;
  const outer = itemsOf(from, lookup, ctes, true);
  // `*` would take in the new table's columns.
  if (!outer || hasStar(select.targetList)) return;
  const conjuncts = andArgs(select.whereClause as Node);
  const added: Node[] = [];
  const rewritten = conjuncts.map((c) => {
    const alias = `__decorrelated_${counter.n + 1}`;
    const done = rewriteConjunct(c, outer, lookup, ctes, alias);
    if (!done) return [c];
    counter.n++;
    added.push(done.table);
    return done.conjuncts;
  });
  if (!added.length) return;
  select.fromClause = [...from, ...added];
  select.whereClause = andOf(rewritten.flat());
}

/** The relations of a FROM list of tables and inner joins, or null for anything else. */
function itemsOf(from: Node[], lookup: RelationLookup, ctes: Set<string>, joins: boolean): Item[] | null {
  const items: Item[] = [];
  const walk = (node: Node): boolean => {
    const rv = node.RangeVar as Node | undefined;
    if (rv) {
      const relname = rv.relname as string;
      const facts = rv.schemaname === undefined && ctes.has(relname) ? null : lookup(relname);
      if (!facts) return false;
      const refname = ((rv.alias as Node | undefined)?.aliasname as string | undefined) ?? relname;
      items.push({ refname, facts });
      return true;
    }
    const join = node.JoinExpr as Node | undefined;
    if (!joins || !join || join.jointype !== 'JOIN_INNER' || join.alias || join.isNatural) return false;
    if ((join.usingClause as unknown[] | undefined)?.length) return false;
    return walk(join.larg as Node) && walk(join.rarg as Node);
  };
  return from.every(walk) ? items : null;
}

function hasStar(targets: unknown): boolean {
  return ((targets as Node[] | undefined) ?? []).some((t) => {
    const fields = ((t.ResTarget as Node).val as Node | undefined)?.ColumnRef as Node | undefined;
    return (
      (fields?.fields as Node[] | undefined)?.length === 1 && Boolean((fields!.fields as Node[])[0].A_Star)
    );
  });
}

function rewriteConjunct(
  c: Node,
  outer: Item[],
  lookup: RelationLookup,
  ctes: Set<string>,
  alias: string,
): { table: Node; conjuncts: Node[] } | null {
  const e = c.A_Expr as Node | undefined;
  if (!e || e.kind !== 'AEXPR_OP') return null;
  const side = subqueryOf(e.rexpr) ? 'rexpr' : subqueryOf(e.lexpr) ? 'lexpr' : null;
  if (!side) return null;
  const sub = subqueryOf(e[side])!;
  const inner = itemsOf(sub.fromClause as Node[], lookup, ctes, false);
  if (!inner) return null;
  const resolve = resolver(inner, outer);
  const agg = aggregateOf(sub, resolve);
  const parts = agg && correlationOf(sub, resolve);
  if (!parts) return null;
  const k = `${alias}_k`;
  const v = `${alias}_v`;
  const table = {
    RangeSubselect: {
      subquery: {
        SelectStmt: {
          targetList: [{ ResTarget: { name: k, val: parts.innerKey } }, { ResTarget: { name: v, val: agg } }],
          fromClause: sub.fromClause,
          ...(parts.rest.length ? { whereClause: andOf(parts.rest) } : {}),
          groupClause: [parts.innerKey],
          limitOption: 'LIMIT_OPTION_DEFAULT',
          op: 'SETOP_NONE',
        },
      },
      alias: { aliasname: alias },
    },
  };
  const keyEq = {
    A_Expr: { ...parts.equality, [parts.innerSide]: columnRef(alias, k) },
  };
  const compared = { A_Expr: { ...e, [side]: columnRef(alias, v) } };
  return { table, conjuncts: [keyEq, compared] };
}

/** The SELECT of a scalar subquery that is one plain aggregate row, or null. */
function subqueryOf(node: unknown): Node | null {
  const link = (node as Node | undefined)?.SubLink as Node | undefined;
  if (!link || link.subLinkType !== 'EXPR_SUBLINK') return null;
  const sub = (link.subselect as Node).SelectStmt as Node | undefined;
  if (!sub || sub.op !== 'SETOP_NONE' || !(sub.fromClause as Node[] | undefined)?.length) return null;
  if (!sub.whereClause || clauses.some((key) => sub[key] !== undefined)) return null;
  return sub;
}

/** Arithmetic of a numeric literal and a NULL: NULL, so `0.2 * avg(x)` keeps NULL on no rows. */
const strictArithmetic = new Set(['*', '/', '+', '-']);

/**
 * The subquery's one target when it is `min|max|sum|avg(plain inner expression)`, alone or in arithmetic
 * with a numeric literal (TPC-H Q17's `0.2 * avg(l_quantity)`), or null.
 */
function aggregateOf(sub: Node, resolve: (ref: Node) => Resolved): Node | null {
  const targets = sub.targetList as Node[];
  if (targets.length !== 1) return null;
  const val = (targets[0].ResTarget as Node).val as Node;
  const e = val.A_Expr as Node | undefined;
  if (!e) return plainAggregate(val, resolve) ? val : null;
  const op = e.kind === 'AEXPR_OP' && (e.name as Node[]).length === 1 ? (e.name as Node[])[0].String : null;
  if (!op || !strictArithmetic.has((op as Node).sval as string)) return null;
  const [l, r] = [e.lexpr as Node | undefined, e.rexpr as Node | undefined];
  const agg = numericLiteral(l) ? r : numericLiteral(r) ? l : undefined;
  return agg && plainAggregate(agg, resolve) ? val : null;
}

function numericLiteral(node: Node | undefined): boolean {
  const c = node?.A_Const as Node | undefined;
  return Boolean(c && !c.isnull && (c.ival !== undefined || c.fval !== undefined));
}

function plainAggregate(node: Node, resolve: (ref: Node) => Resolved): boolean {
  const call = node.FuncCall as Node | undefined;
  if (!call) return false;
  const name = call.funcname as Node[];
  const fn = name.length === 1 ? ((name[0].String as Node | undefined)?.sval as string) : undefined;
  const args = call.args as Node[] | undefined;
  if (!fn || !nullOnEmpty.has(fn) || args?.length !== 1) return false;
  const modifiers = ['agg_star', 'agg_distinct', 'agg_filter', 'agg_order', 'agg_within_group', 'over'];
  if (call.func_variadic || modifiers.some((key) => call[key])) return false;
  return plainInner(args[0], resolve);
}

/**
 * The one correlation `inner.k = outer.k` among the WHERE conjuncts (same type, default collation: the
 * groups then are the sets the equality picks), and the other conjuncts, all plain and inner; else null.
 */
function correlationOf(
  sub: Node,
  resolve: (ref: Node) => Resolved,
): { equality: Node; innerSide: 'lexpr' | 'rexpr'; innerKey: Node; rest: Node[] } | null {
  let found: { equality: Node; innerSide: 'lexpr' | 'rexpr'; innerKey: Node } | null = null;
  const rest: Node[] = [];
  for (const c of andArgs(sub.whereClause as Node)) {
    if (plainInner(c, resolve)) {
      rest.push(c);
      continue;
    }
    const e = c.A_Expr as Node | undefined;
    const name = e?.name as Node[] | undefined;
    if (found || !e || e.kind !== 'AEXPR_OP' || name?.length !== 1) return null;
    if ((name[0].String as Node | undefined)?.sval !== '=') return null;
    const l = e.lexpr as Node;
    const r = e.rexpr as Node;
    if (!l.ColumnRef || !r.ColumnRef) return null;
    const a = resolve(l);
    const b = resolve(r);
    if (!a || !b || a.scope === b.scope || !sameType(a.column, b.column)) return null;
    const innerSide = a.scope === 'inner' ? 'lexpr' : 'rexpr';
    found = { equality: e, innerSide, innerKey: innerSide === 'lexpr' ? l : r };
  }
  return found && { ...found, rest };
}

/** Whether an expression holds only plain kinds and columns of the subquery's own tables. */
function plainInner(node: Node, resolve: (ref: Node) => Resolved): boolean {
  return plainExpression(node, (ref) => resolve(ref)?.scope === 'inner');
}

/** Resolves a column reference as PostgreSQL does: the subquery's tables first, then the outer query's. */
function resolver(inner: Item[], outer: Item[]): (ref: Node) => Resolved {
  return (ref) => {
    const fields = ((ref.ColumnRef as Node).fields as Node[]).map(
      (f) => (f.String as Node | undefined)?.sval as string | undefined,
    );
    if (fields.some((f) => f === undefined) || fields.length > 2) return null;
    const column = (item: Item) => item.facts.columns.find((c) => c.name === fields[fields.length - 1]);
    for (const [scope, items] of [
      ['inner', inner],
      ['outer', outer],
    ] as const) {
      const named = fields.length === 2 ? items.filter((i) => i.refname === fields[0]) : items.filter(column);
      if (named.length > 1) return null;
      if (named.length === 1) {
        const c = column(named[0]);
        return c ? { scope, column: c } : null;
      }
    }
    return null;
  };
}

function columnRef(table: string, column: string): Node {
  return { ColumnRef: { fields: [{ String: { sval: table } }, { String: { sval: column } }] } };
}
