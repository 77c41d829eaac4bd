// Finds the cypher() call in a statement's AST and checks that nothing around it needs PostgreSQL (Apache AGE's shape).
import { PluginError } from '../../api.js';
import type { StatementNode } from '../../../sql/parser.js';
import { columnType, type ColumnType } from './column-types.js';
import { pluginError } from './errors.js';

/** Where the third argument's map of Cypher parameters comes from. */
export type CypherParamsSource =
  | { readonly kind: 'none' }
  | { readonly kind: 'bound'; readonly number: number }
  | { readonly kind: 'literal'; readonly text: string };

export interface DefinedColumn {
  readonly name: string;
  readonly type: ColumnType;
}

/** A result column: which Cypher result field (by position) it shows, under what name. */
export interface OutputColumn {
  readonly name: string;
  readonly field: number;
  readonly type: ColumnType;
}

export interface CypherCall {
  readonly graph: string;
  readonly query: string;
  readonly params: CypherParamsSource;
  /** The column definition list: Cypher's RETURN items map onto it by position. */
  readonly defined: readonly DefinedColumn[];
  /** The select list: all defined columns for `*`, or the ones named, in that order. */
  readonly output: readonly OutputColumn[];
}

type Node = Record<string, unknown>;

const ageShape = "SELECT * FROM cypher('graph', $$ ... $$) AS (column agtype, ...)";

function unsupported(what: string): PluginError {
  return pluginError(
    'featureNotSupported',
    `${what} is not supported around cypher(); the statement must have the form ${ageShape}`,
    'Express filtering, sorting, limits and joins in the Cypher query itself.',
  );
}

/** The inner object of a `{ Kind: {...} }` node, or undefined when the node is of another kind. */
function as(value: unknown, kind: string): Node | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const inner = (value as Node)[kind];
  return typeof inner === 'object' && inner !== null ? (inner as Node) : undefined;
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function stringValues(nodes: unknown): string[] {
  return list(nodes).map((n) => String(as(n, 'String')?.sval ?? ''));
}

/** A constant argument, looking through casts such as `'social'::name` or `'{}'::agtype`. */
function withoutCast(arg: unknown): unknown {
  return as(arg, 'TypeCast')?.arg ?? arg;
}

function stringConstant(arg: unknown): string | undefined {
  const constant = as(withoutCast(arg), 'A_Const');
  const sval = constant && as(constant, 'sval');
  return typeof sval?.sval === 'string' ? sval.sval : sval ? '' : undefined;
}

/** Clauses a SELECT over cypher() may have; every other key of SelectStmt means SQL work we would skip. */
const allowedSelectKeys = new Set(['targetList', 'fromClause', 'limitOption', 'op']);

const clauseNames: Record<string, string> = {
  whereClause: 'WHERE',
  groupClause: 'GROUP BY',
  havingClause: 'HAVING',
  sortClause: 'ORDER BY',
  limitCount: 'LIMIT',
  limitOffset: 'OFFSET',
  distinctClause: 'DISTINCT',
  withClause: 'WITH',
  intoClause: 'SELECT INTO',
  lockingClause: 'FOR UPDATE/SHARE',
  windowClause: 'WINDOW',
  valuesLists: 'VALUES',
  groupDistinct: 'GROUP BY DISTINCT',
};

const functionNames = new Set(['cypher', 'ag_catalog.cypher']);

function cypherFunction(rangeFunction: Node): Node {
  const functions = list(rangeFunction.functions);
  const items = list(as(functions[0], 'List')?.items);
  const call = as(items[0], 'FuncCall');
  const name = stringValues(call?.funcname).join('.').toLowerCase();
  if (functions.length !== 1 || !call || !functionNames.has(name)) {
    throw unsupported('a function other than cypher() in FROM');
  }
  return call;
}

function paramsSource(arg: unknown): CypherParamsSource {
  if (arg === undefined) return { kind: 'none' };
  const inner = withoutCast(arg);
  const param = as(inner, 'ParamRef');
  if (param) return { kind: 'bound', number: Number(param.number) };
  if (as(inner, 'A_Const')?.isnull) return { kind: 'none' };
  const text = stringConstant(arg);
  if (text !== undefined) return { kind: 'literal', text };
  throw pluginError(
    'invalidParameterValue',
    'the third argument of cypher() must be a parameter ($1) or a constant holding a map of Cypher parameters',
  );
}

function definedColumns(rangeFunction: Node): DefinedColumn[] {
  const defs = list(rangeFunction.coldeflist);
  if (defs.length === 0) {
    throw pluginError(
      'syntaxError',
      'a column definition list is required for cypher()',
      `Write the result columns after the call, as in ${ageShape}.`,
    );
  }
  return defs.map((def) => {
    const column = as(def, 'ColumnDef') ?? {};
    const name = String(column.colname ?? '');
    const typeName = (column.typeName ?? {}) as Node;
    const isArray = list(typeName.arrayBounds).length > 0;
    return { name, type: columnType(stringValues(typeName.names), isArray, name) };
  });
}

function outputColumns(target: unknown[], defined: readonly DefinedColumn[], alias: string | undefined) {
  const output: OutputColumn[] = [];
  for (const item of target) {
    const res = as(item, 'ResTarget') ?? {};
    const ref = as(res.val, 'ColumnRef');
    const fields = list(ref?.fields);
    if (fields.length === 1 && as(fields[0], 'A_Star') && res.name === undefined) {
      defined.forEach((column, field) => output.push({ name: column.name, field, type: column.type }));
      continue;
    }
    const names = stringValues(fields);
    const qualified = names.length === 2 && alias !== undefined && names[0] === alias;
    const column = ref && (names.length === 1 || qualified) ? names[names.length - 1] : undefined;
    const field = defined.findIndex((d) => d.name === column);
    if (field < 0) throw unsupported('a select list other than * or columns of the definition list');
    output.push({
      name: typeof res.name === 'string' ? res.name : column!,
      field,
      type: defined[field].type,
    });
  }
  return output;
}

/** Reads the cypher() call from a statement; throws 0A000 for any SQL around it that only PostgreSQL could run. */
export function extractCypherCall(ast: StatementNode): CypherCall {
  const select = as(ast, 'SelectStmt');
  if (!select) throw unsupported(`a ${Object.keys(ast)[0] ?? 'statement'} statement`);
  if (select.op !== undefined && select.op !== 'SETOP_NONE') throw unsupported('UNION/INTERSECT/EXCEPT');
  for (const key of Object.keys(select)) {
    if (allowedSelectKeys.has(key)) continue;
    throw unsupported(clauseNames[key] ?? key);
  }
  const from = list(select.fromClause);
  if (from.length !== 1) throw unsupported(from.length === 0 ? 'cypher() outside FROM' : 'a join');
  const rangeFunction = as(from[0], 'RangeFunction');
  if (!rangeFunction) throw unsupported('a join with a table or subquery');
  if (rangeFunction.ordinality || rangeFunction.lateral || rangeFunction.is_rowsfrom) {
    throw unsupported('WITH ORDINALITY, LATERAL or ROWS FROM');
  }
  const call = cypherFunction(rangeFunction);
  if (call.agg_star || call.agg_distinct || call.over || call.agg_filter || call.func_variadic) {
    throw unsupported('an aggregate or window form of cypher()');
  }
  const args = list(call.args);
  const graph = stringConstant(args[0]);
  const query = stringConstant(args[1]);
  if (args.length < 2 || args.length > 3 || graph === undefined || query === undefined) {
    throw pluginError(
      'invalidParameterValue',
      'cypher() takes a graph name and a Cypher query as string constants, and optionally a map of parameters',
      `Write it as ${ageShape}.`,
    );
  }
  const defined = definedColumns(rangeFunction);
  const alias = as(rangeFunction.alias, 'Alias') ?? (rangeFunction.alias as Node | undefined);
  const aliasName = typeof alias?.aliasname === 'string' ? alias.aliasname : undefined;
  const output = outputColumns(list(select.targetList), defined, aliasName);
  return { graph, query, params: paramsSource(args[2]), defined, output };
}
