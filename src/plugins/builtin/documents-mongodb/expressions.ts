// Resolves SQL expressions over a collection's table to typed document paths, constants, parameters and aggregates.
import { pluginError, unsupported } from './errors.js';
import { pgTypeNamed, type PgType } from './pg-types.js';
import { bodyOf, constantOf, kindOf, listOf, names, typeNameOf, type Node } from './sql-ast.js';
import { checkFieldName, findColumn, type TableShape } from './table-shape.js';

/** A typed path into the documents: a column, a `->`/`->>` lookup, or either cast to another type. */
export interface FieldExpr {
  readonly kind: 'field';
  readonly path: readonly string[];
  readonly type: PgType;
  /** The name PostgreSQL would give the result column. */
  readonly name: string;
}

export interface ConstExpr {
  readonly kind: 'const';
  readonly text: string | null;
  /** Set by a cast or by the constant's own syntax (integer, decimal, boolean); undefined for a quoted string. */
  readonly type: PgType | undefined;
  readonly name: string;
}

export interface ParamExpr {
  readonly kind: 'param';
  /** 1-based, as in `$1`. */
  readonly number: number;
  readonly type: PgType | undefined;
  readonly name: string;
}

export type AggregateName = 'count' | 'sum' | 'avg' | 'min' | 'max';

export interface AggregateExpr {
  readonly kind: 'aggregate';
  readonly fn: AggregateName;
  /** Null for count(*). */
  readonly arg: FieldExpr | null;
  readonly name: string;
}

export type ValueExpr = FieldExpr | ConstExpr | ParamExpr;
export type OutputExpr = ValueExpr | AggregateExpr;

const unnamed = '?column?';
const aggregates = new Set<string>(['count', 'sum', 'avg', 'min', 'max']);

function castType(name: string): PgType {
  const type = pgTypeNamed(name);
  if (!type)
    throw unsupported(
      `the type ${name}`,
      'cast to text, int4, int8, float8, numeric, bool, timestamptz or jsonb',
    );
  return type;
}

function constType(kind: ReturnType<typeof constantOf>['kind'], text: string | null): PgType | undefined {
  if (kind === 'integer') return 'int4';
  if (kind === 'decimal') return text !== null && /^[+-]?\d+$/.test(text) ? 'int8' : 'numeric';
  if (kind === 'bool') return 'bool';
  return undefined;
}

/** A path step from the right side of `->`/`->>`: a key, or an array index. */
function pathStep(node: unknown): string {
  const body = bodyOf(node, 'A_Const');
  const constant = body ? constantOf(body) : undefined;
  if (!constant || constant.text === null)
    throw unsupported('a computed JSON key', "write the key as a constant, e.g. doc->'a'->>'b'");
  if (constant.kind === 'integer') {
    if (Number(constant.text) < 0)
      throw unsupported('negative array indexes', 'index from the start of the array');
    return constant.text;
  }
  return checkFieldName(constant.text);
}

function jsonLookup(body: Node, shape: TableShape, op: string): FieldExpr {
  const left = resolveValue(body.lexpr as Node, shape);
  if (left.kind !== 'field' || left.type !== 'jsonb')
    throw pluginError(
      'undefinedFunction',
      `operator does not exist: ${left.kind === 'field' ? left.type : 'unknown'} ${op} unknown`,
    );
  return {
    kind: 'field',
    path: [...left.path, pathStep(body.rexpr)],
    type: op === '->' ? 'jsonb' : 'text',
    name: unnamed,
  };
}

/** A scalar expression: column, JSON lookup, cast, constant or parameter. */
export function resolveValue(node: Node, shape: TableShape): ValueExpr {
  const kind = kindOf(node);
  const body = (node as Record<string, Node>)[kind];
  switch (kind) {
    case 'ColumnRef': {
      const fields = listOf(body.fields);
      const last = fields[fields.length - 1];
      if (kindOf(last) === 'A_Star') throw unsupported('* inside an expression', 'name the columns');
      const name = String(bodyOf(last, 'String')?.sval ?? '');
      const column = findColumn(shape, name);
      return { kind: 'field', path: column.path, type: column.type, name: column.name };
    }
    case 'A_Expr': {
      const op = names(body.name).join('.');
      if (body.kind === 'AEXPR_OP' && (op === '->' || op === '->>')) return jsonLookup(body, shape, op);
      throw unsupported(
        `the operator ${op || String(body.kind)} in this position`,
        'select columns, JSON lookups, constants or aggregates',
      );
    }
    case 'TypeCast': {
      const inner = resolveValue(body.arg as Node, shape);
      const typeName = typeNameOf(body);
      const type = castType(typeName);
      const name = inner.kind === 'field' && inner.name !== unnamed ? inner.name : typeName.split('.').pop()!;
      return { ...inner, type, name };
    }
    case 'A_Const': {
      const constant = constantOf(body);
      return {
        kind: 'const',
        text: constant.text,
        type: constType(constant.kind, constant.text),
        name: unnamed,
      };
    }
    case 'ParamRef':
      return { kind: 'param', number: Number(body.number ?? 0), type: undefined, name: unnamed };
    case 'FuncCall':
      throw unsupported(
        `the function ${names(body.funcname).join('.')}() here`,
        'use aggregates in the select list or HAVING only',
      );
    case 'SubLink':
      throw unsupported(
        'subqueries',
        'query the collection on its own and combine results in the application',
      );
    default:
      throw unsupported(
        `the expression ${kind}`,
        'use columns, JSON lookups (->, ->>), casts, constants and parameters',
      );
  }
}

/** An aggregate call, or undefined when the node is no function call at all. */
export function resolveAggregate(node: Node, shape: TableShape): AggregateExpr | undefined {
  const body = bodyOf(node, 'FuncCall');
  if (!body) return undefined;
  const fn = names(body.funcname)
    .filter((part) => part !== 'pg_catalog')
    .join('.')
    .toLowerCase();
  if (body.over)
    throw unsupported('window functions', 'aggregate with GROUP BY, or compute windows in the application');
  if (!aggregates.has(fn))
    throw unsupported(`the function ${fn}()`, 'only count, sum, avg, min and max run in MongoDB');
  if (body.agg_distinct) throw unsupported(`${fn}(DISTINCT ...)`, 'group by the column instead');
  if (body.agg_filter || listOf(body.agg_order).length)
    throw unsupported(`${fn}() with FILTER or ORDER BY`, 'move the condition into WHERE');
  if (body.agg_star) {
    if (fn !== 'count') throw unsupported(`${fn}(*)`, 'name a column');
    return { kind: 'aggregate', fn: 'count', arg: null, name: fn };
  }
  const args = listOf(body.args);
  if (args.length !== 1) throw unsupported(`${fn}() with ${args.length} arguments`, 'pass one column');
  const arg = resolveValue(args[0], shape);
  if (arg.kind !== 'field') throw unsupported(`${fn}() of a constant`, 'aggregate a column');
  const fnName = fn as AggregateName;
  if ((fnName === 'sum' || fnName === 'avg') && !['int4', 'int8', 'float8', 'numeric'].includes(arg.type))
    throw pluginError('undefinedFunction', `function ${fn}(${arg.type}) does not exist`);
  if ((fnName === 'min' || fnName === 'max') && arg.type === 'jsonb')
    throw pluginError('undefinedFunction', `function ${fn}(jsonb) does not exist`);
  return { kind: 'aggregate', fn: fnName, arg, name: fn };
}

/** The PostgreSQL result type of an aggregate. */
export function aggregateType(agg: AggregateExpr): PgType {
  if (agg.fn === 'count') return 'int8';
  const argType = agg.arg!.type;
  if (agg.fn === 'min' || agg.fn === 'max') return argType;
  if (argType === 'float8') return 'float8';
  if (agg.fn === 'sum' && argType === 'int4') return 'int8';
  return 'numeric';
}

export const pathKey = (path: readonly string[]) => path.join('.');
