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

export function compileHaving(
  node: Node,
  shape: TableShape,
  bindings: Bindings,
  scope: HavingScope,
): RowPredicate {
  const operand = (expr: Node): Operand => {
    const agg = resolveAggregate(expr, shape);
    if (agg) {
      const index = scope.aggregateIndex(agg);
      return { type: aggregateType(agg), read: (row) => row.aggregates[index].value };
    }
    const value = resolveValue(expr, shape);
    if (value.kind === 'field') {
      const index = scope.keyIndex(value);
      return { type: value.type, read: (row) => sortable(row.keys[index]) };
    }
    return { constant: expr };
  };
  const constantValue = (constant: Node, type: PgType): Sortable => {
    const value = resolveValue(constant, shape);
    if (value.kind === 'field')
      throw unsupported('this HAVING condition', 'compare an aggregate with a constant');
    const field: FieldExpr = { kind: 'field', path: ['having'], type, name: 'having' };
    return sortable(bindings.comparable(value, field));
  };

  const compile = (expr: Node): RowPredicate => {
    const kind = kindOf(expr);
    const body = (expr as Record<string, Node>)[kind];
    if (kind === 'BoolExpr') {
      const args = listOf(body.args).map(compile);
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
    if (kind === 'NullTest') {
      const side = operand(body.arg as Node);
      if ('constant' in side) throw unsupported('IS NULL on a constant', 'test an aggregate or group column');
      const wantNull = body.nulltesttype === 'IS_NULL';
      return (row) => (side.read(row) === null) === wantNull;
    }
    if (kind === 'A_Expr' && body.kind === 'AEXPR_OP') {
      const op = names(body.name).join('.');
      const test = tests[op];
      if (!test) throw unsupported(`the operator ${op} in HAVING`, 'use =, <>, <, <=, >, >=');
      const left = operand(body.lexpr as Node);
      const right = operand(body.rexpr as Node);
      if ('constant' in left && 'constant' in right)
        throw unsupported('HAVING without an aggregate', 'move the condition to WHERE');
      const read = (side: Operand, other: Operand): ((row: GroupRow) => Sortable) => {
        if (!('constant' in side)) return side.read;
        const fixed = constantValue(side.constant, (other as { type: PgType }).type);
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
    throw unsupported(
      `${kind} in HAVING`,
      'compare aggregates with constants, combined with AND, OR and NOT',
    );
  };
  return compile(node);
}
