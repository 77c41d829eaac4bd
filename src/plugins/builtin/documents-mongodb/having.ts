// HAVING → a predicate over grouped rows (run in the proxy on the grouped results), with SQL's NULL logic.
import type { Bindings } from './bindings.js';
import { unsupported } from './errors.js';
import {
  aggregateType,
  resolveAggregate,
  resolveValue,
  type AggregateExpr,
  type FieldExpr,
} from './expressions.js';
import type { GroupRow, RowPredicate } from './plans.js';
import { compareSortable, sortable, type Sortable } from './sql-compare.js';
import { kindOf, listOf, names, type Node } from './sql-ast.js';
import type { PgType } from './pg-types.js';
import type { TableShape } from './table-shape.js';

export interface HavingScope {
  aggregateIndex(agg: AggregateExpr): number;
  keyIndex(field: FieldExpr): number;
  readonly keys: readonly FieldExpr[];
}

type Operand =
  { readonly type: PgType; readonly read: (row: GroupRow) => Sortable } | { readonly constant: Node };

const tests: Record<string, (order: number) => boolean> = {
  '=': (o) => o === 0,
  '<>': (o) => o !== 0,
  '!=': (o) => o !== 0,
  '<': (o) => o < 0,
  '<=': (o) => o <= 0,
  '>': (o) => o > 0,
  '>=': (o) => o >= 0,
};

/** What compiling one HAVING clause reads: the table, the statement's parameters and the grouped row layout. */
interface HavingContext {
  shape: TableShape;
  bindings: Bindings;
  scope: HavingScope;
}

export function compileHaving(
  node: Node,
  shape: TableShape,
  bindings: Bindings,
  scope: HavingScope,
): RowPredicate {
  return compile(node, { shape, bindings, scope });
}

function compile(expr: Node, ctx: HavingContext): RowPredicate {
  const kind = kindOf(expr);
  const body = (expr as Record<string, Node>)[kind];
  if (kind === 'BoolExpr') return compileBool(body, ctx);
  if (kind === 'NullTest') {
    const side = operand(body.arg as Node, ctx);
    if ('constant' in side) throw unsupported('IS NULL on a constant', 'test an aggregate or group column');
    const wantNull = body.nulltesttype === 'IS_NULL';
    return (row) => (side.read(row) === null) === wantNull;
  }
  if (kind === 'A_Expr' && body.kind === 'AEXPR_OP') return compileComparison(body, ctx);
  throw unsupported(`${kind} in HAVING`, 'compare aggregates with constants, combined with AND, OR and NOT');
}

/** AND, OR and NOT over SQL's three truth values (null is unknown). */
function compileBool(body: Node, ctx: HavingContext): RowPredicate {
  const args = listOf(body.args).map((arg) => compile(arg, ctx));
  if (body.boolop === 'NOT_EXPR')
    return (row) => {
      const v = args[0](row);
      return v === null ? null : !v;
    };
  const isAnd = body.boolop === 'AND_EXPR';
  return (row) => {
    let unknown = false;
    for (const arg of args) {
      const v = arg(row);
      if (v === null) unknown = true;
      else if (v !== isAnd) return v;
    }
    return unknown ? null : isAnd;
  };
}

/** An aggregate or group column compared with another or with a constant; null when either side is NULL. */
function compileComparison(body: Node, ctx: HavingContext): RowPredicate {
  const op = names(body.name).join('.');
  const test = tests[op];
  if (!test) throw unsupported(`the operator ${op} in HAVING`, 'use =, <>, <, <=, >, >=');
  const left = operand(body.lexpr as Node, ctx);
  const right = operand(body.rexpr as Node, ctx);
  if ('constant' in left && 'constant' in right)
    throw unsupported('HAVING without an aggregate', 'move the condition to WHERE');
  const read = (side: Operand, other: Operand): ((row: GroupRow) => Sortable) => {
    if (!('constant' in side)) return side.read;
    // A constant takes the type of what it is compared with, as PostgreSQL types an unknown literal.
    const fixed = constantValue(side.constant, (other as { type: PgType }).type, ctx);
    return () => fixed;
  };
  const readLeft = read(left, right);
  const readRight = read(right, left);
  return (row) => {
    const a = readLeft(row);
    const b = readRight(row);
    if (a === null || b === null) return null;
    return test(compareSortable(a, b));
  };
}

/** An aggregate (read from the grouped row's aggregates), a group key, or a constant left for the other side's type. */
function operand(expr: Node, ctx: HavingContext): Operand {
  const agg = resolveAggregate(expr, ctx.shape);
  if (agg) {
    const index = ctx.scope.aggregateIndex(agg);
    return { type: aggregateType(agg), read: (row) => row.aggregates[index].value };
  }
  const value = resolveValue(expr, ctx.shape);
  if (value.kind === 'field') {
    const index = ctx.scope.keyIndex(value);
    return { type: value.type, read: (row) => sortable(row.keys[index]) };
  }
  return { constant: expr };
}

function constantValue(constant: Node, type: PgType, ctx: HavingContext): Sortable {
  const value = resolveValue(constant, ctx.shape);
  if (value.kind === 'field')
    throw unsupported('this HAVING condition', 'compare an aggregate with a constant');
  const field: FieldExpr = { kind: 'field', path: ['having'], type, name: 'having' };
  return sortable(ctx.bindings.comparable(value, field));
}
