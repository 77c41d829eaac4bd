// WHERE → MongoDB filter. Each predicate has a "true" and a "false" filter, so NOT and NULLs follow SQL's
// three-valued logic; literals are always wrapped in an operator ({$eq: v}) so data never reads as an operator.
import type { Bindings } from './bindings.js';
import { unsupported } from './errors.js';
import { resolveValue, pathKey, type FieldExpr, type ValueExpr } from './expressions.js';
import { bodyOf, kindOf, listOf, names, type Node } from './sql-ast.js';
import type { TableShape } from './table-shape.js';

export type Filter = Record<string, unknown>;

interface Sides {
  readonly whenTrue: Filter;
  readonly whenFalse: Filter;
}

export const matchAll: Filter = {};
/** `_id` is never missing, so an empty $in matches nothing (FerretDB v1 lacks $expr: false). */
export const matchNone: Filter = { _id: { $in: [] } };

const isNone = (filter: Filter) => filter === matchNone;
const isAll = (filter: Filter) => Object.keys(filter).length === 0;

function and(filters: Filter[]): Filter {
  if (filters.some(isNone)) return matchNone;
  const kept = filters.filter((filter) => !isAll(filter));
  if (kept.length === 0) return matchAll;
  return kept.length === 1 ? kept[0] : { $and: kept };
}

function or(filters: Filter[]): Filter {
  if (filters.some(isAll)) return matchAll;
  const kept = filters.filter((filter) => !isNone(filter));
  if (kept.length === 0) return matchNone;
  return kept.length === 1 ? kept[0] : { $or: kept };
}

const on = (field: FieldExpr, condition: Record<string, unknown>): Filter => ({
  [pathKey(field.path)]: condition,
});
const notNull = (field: FieldExpr) => on(field, { $ne: null });

const flipped: Record<string, string> = {
  '=': '=',
  '<>': '<>',
  '!=': '<>',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
};
const mongoOp: Record<string, string> = { '=': '$eq', '<': '$lt', '<=': '$lte', '>': '$gt', '>=': '$gte' };
const negated: Record<string, string> = { '=': '<>', '<>': '=', '<': '>=', '<=': '>', '>': '<=', '>=': '<' };

function comparison(op: string, field: FieldExpr, value: unknown): Filter {
  if (value === null) return matchNone;
  if (op === '<>') return and([on(field, { $ne: value }), notNull(field)]);
  return on(field, { [mongoOp[op]]: value });
}

/** LIKE pattern → anchored regex: % and _ become .* and ., a backslash escapes, everything else is literal. */
export function likeToRegex(pattern: string): string {
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) out += escapeRegex(pattern[++i]);
    else if (ch === '%') out += '.*';
    else if (ch === '_') out += '.';
    else out += escapeRegex(ch);
  }
  return `${out}$`;
}

const escapeRegex = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

export class FilterBuilder {
  constructor(
    private readonly shape: TableShape,
    private readonly bindings: Bindings,
  ) {}

  /** The filter for rows where the condition is true (absent WHERE: every document). */
  where(node: Node | undefined): Filter {
    return node ? this.sides(node).whenTrue : matchAll;
  }

  private field(node: Node): FieldExpr {
    const value = resolveValue(node, this.shape);
    if (value.kind !== 'field')
      throw unsupported(
        'a condition without a column on one side',
        'compare a column with a constant or parameter',
      );
    return this.comparableField(value);
  }

  private comparableField(field: FieldExpr): FieldExpr {
    if (field.path.length === 0)
      throw unsupported('conditions on the whole document', "compare a field, e.g. doc->>'a'");
    return field;
  }

  /** Field on one side, constant or parameter on the other; reports the operator as seen from the field. */
  private operands(body: Node, op: string): { field: FieldExpr; other: ValueExpr; op: string } {
    const left = resolveValue(body.lexpr as Node, this.shape);
    const right = resolveValue(body.rexpr as Node, this.shape);
    if (left.kind === 'field' && right.kind !== 'field')
      return { field: this.comparableField(left), other: right, op };
    if (right.kind === 'field' && left.kind !== 'field')
      return { field: this.comparableField(right), other: left, op: flipped[op] };
    if (left.kind === 'field')
      throw unsupported('comparing two columns', 'compare a column with a constant or parameter');
    throw unsupported('a condition without a column', 'compare a column with a constant or parameter');
  }

  private value(other: ValueExpr, field: FieldExpr): unknown {
    if (other.kind === 'field')
      throw unsupported('comparing two columns', 'compare a column with a constant');
    return this.bindings.comparable(other, field);
  }

  private sides(node: Node): Sides {
    const kind = kindOf(node);
    const body = (node as Record<string, Node>)[kind];
    switch (kind) {
      case 'BoolExpr':
        return this.boolExpr(body);
      case 'A_Expr':
        return this.aExpr(body);
      case 'NullTest': {
        const field = this.field(body.arg as Node);
        const isNull = on(field, { $eq: null });
        return body.nulltesttype === 'IS_NULL'
          ? { whenTrue: isNull, whenFalse: notNull(field) }
          : { whenTrue: notNull(field), whenFalse: isNull };
      }
      case 'BooleanTest':
        return this.booleanTest(body);
      case 'A_Const': {
        const value = resolveValue(node, this.shape);
        if (value.kind === 'const' && value.type === 'bool')
          return value.text === 'true'
            ? { whenTrue: matchAll, whenFalse: matchNone }
            : { whenTrue: matchNone, whenFalse: matchAll };
        throw unsupported('a constant as a condition', 'write a comparison');
      }
      case 'SubLink':
        throw unsupported('subqueries', 'query each collection on its own');
      default: {
        const field = this.field(node);
        if (field.type !== 'bool')
          throw unsupported(`a ${field.type} value as a condition`, 'write a comparison');
        return { whenTrue: on(field, { $eq: true }), whenFalse: on(field, { $eq: false }) };
      }
    }
  }

  private boolExpr(body: Node): Sides {
    const args = listOf(body.args).map((arg) => this.sides(arg));
    switch (body.boolop) {
      case 'AND_EXPR':
        return { whenTrue: and(args.map((s) => s.whenTrue)), whenFalse: or(args.map((s) => s.whenFalse)) };
      case 'OR_EXPR':
        return { whenTrue: or(args.map((s) => s.whenTrue)), whenFalse: and(args.map((s) => s.whenFalse)) };
      default:
        return { whenTrue: args[0].whenFalse, whenFalse: args[0].whenTrue };
    }
  }

  private booleanTest(body: Node): Sides {
    const field = this.field(body.arg as Node);
    const wanted = body.booltesttype === 'IS_TRUE' || body.booltesttype === 'IS_NOT_TRUE';
    const matches = on(field, { $eq: wanted });
    const differs = on(field, { $ne: wanted });
    const positive = body.booltesttype === 'IS_TRUE' || body.booltesttype === 'IS_FALSE';
    return positive ? { whenTrue: matches, whenFalse: differs } : { whenTrue: differs, whenFalse: matches };
  }

  private aExpr(body: Node): Sides {
    const op = names(body.name).join('.');
    switch (body.kind) {
      case 'AEXPR_OP': {
        if (!(op in flipped))
          throw unsupported(
            `the operator ${op} in WHERE`,
            'use =, <>, <, <=, >, >=, IN, BETWEEN, LIKE, IS NULL',
          );
        const { field, other, op: fieldOp } = this.operands(body, op === '!=' ? '<>' : op);
        const value = this.value(other, field);
        return {
          whenTrue: comparison(fieldOp, field, value),
          whenFalse: comparison(negated[fieldOp], field, value),
        };
      }
      case 'AEXPR_IN':
        return this.inList(body, op === '<>');
      case 'AEXPR_BETWEEN':
      case 'AEXPR_NOT_BETWEEN':
        return this.between(body, body.kind === 'AEXPR_NOT_BETWEEN');
      case 'AEXPR_LIKE':
      case 'AEXPR_ILIKE':
        return this.like(body, body.kind === 'AEXPR_ILIKE', op.startsWith('!'));
      default:
        throw unsupported(
          `${String(body.kind).replace('AEXPR_', '')} conditions`,
          'use =, <>, <, <=, >, >=, IN, BETWEEN, LIKE, IS NULL',
        );
    }
  }

  private inList(body: Node, negate: boolean): Sides {
    const field = this.field(body.lexpr as Node);
    const items = bodyOf(body.rexpr, 'List');
    if (!items) throw unsupported('IN with a subquery', 'list the values');
    const values = listOf(items.items).map((item) => this.value(resolveValue(item, this.shape), field));
    const present = values.filter((value) => value !== null);
    const whenTrue = present.length ? on(field, { $in: present }) : matchNone;
    const whenFalse = present.length === values.length ? on(field, { $nin: [...present, null] }) : matchNone;
    return negate ? { whenTrue: whenFalse, whenFalse: whenTrue } : { whenTrue, whenFalse };
  }

  private between(body: Node, negate: boolean): Sides {
    const field = this.field(body.lexpr as Node);
    const bounds = listOf(bodyOf(body.rexpr, 'List')?.items);
    const [low, high] = bounds.map((item) => this.value(resolveValue(item, this.shape), field));
    const inside = low === null || high === null ? matchNone : on(field, { $gte: low, $lte: high });
    const outside = or([comparison('<', field, low), comparison('>', field, high)]);
    return negate ? { whenTrue: outside, whenFalse: inside } : { whenTrue: inside, whenFalse: outside };
  }

  private like(body: Node, caseInsensitive: boolean, negate: boolean): Sides {
    const field = this.field(body.lexpr as Node);
    const right = resolveValue(body.rexpr as Node, this.shape);
    if (right.kind === 'field')
      throw unsupported('LIKE with a column pattern', 'use a constant or parameter pattern');
    if (kindOf(body.rexpr) === 'FuncCall') throw unsupported('LIKE ... ESCAPE', 'escape with a backslash');
    const pattern = this.bindings.comparable(right, { ...field, type: 'text' });
    if (pattern === null) return { whenTrue: matchNone, whenFalse: matchNone };
    const regex = { $regex: likeToRegex(String(pattern)), $options: caseInsensitive ? 'is' : 's' };
    const matches = on(field, regex);
    const differs = and([notNull(field), on(field, { $not: regex })]);
    return negate ? { whenTrue: differs, whenFalse: matches } : { whenTrue: matches, whenFalse: differs };
  }
}
