// SELECT → a find (filter, projection, sort, skip, limit) or a grouped aggregation, all pushed down to MongoDB.
import type { Bindings } from './bindings.js';
import { groupingError, unsupported } from './errors.js';
import {
  aggregateType,
  pathKey,
  resolveAggregate,
  resolveValue,
  type AggregateExpr,
  type FieldExpr,
  type OutputExpr,
} from './expressions.js';
import { FilterBuilder } from './filter.js';
import { compileHaving } from './having.js';
import type { FindPlan, GroupPlan, GroupSortKey, OutputColumn, SortKey } from './plans.js';
import { bodyOf, constantOf, kindOf, listOf, type Node } from './sql-ast.js';
import type { TableShape } from './table-shape.js';

interface Target {
  readonly name: string;
  readonly expr: OutputExpr;
}

function rejectUnsupportedClauses(select: Node): void {
  if (select.withClause) throw unsupported('WITH queries', 'query the collection directly');
  if (select.op && select.op !== 'SETOP_NONE')
    throw unsupported('UNION, INTERSECT and EXCEPT', 'run each query on its own');
  if (listOf(select.distinctClause).length || select.distinctClause)
    throw unsupported('SELECT DISTINCT', 'use GROUP BY on the columns instead');
  if (listOf(select.lockingClause).length)
    throw unsupported('FOR UPDATE/SHARE', 'MongoDB has no row locks; drop the clause');
  if (listOf(select.windowClause).length)
    throw unsupported('window functions', 'compute windows in the application');
  if (select.intoClause) throw unsupported('SELECT INTO', 'insert into a collection with INSERT ... VALUES');
  if (select.limitOption === 'LIMIT_OPTION_WITH_TIES') throw unsupported('FETCH ... WITH TIES', 'use LIMIT');
  const from = listOf(select.fromClause);
  if (from.length !== 1 || kindOf(from[0]) !== 'RangeVar')
    throw unsupported(
      from.some((item) => kindOf(item) === 'RangeSubselect') ? 'subqueries in FROM' : 'joins',
      'query one collection per statement and join in the application (or keep joined data in one document)',
    );
}

function targetsOf(select: Node, shape: TableShape): Target[] {
  const targets: Target[] = [];
  for (const item of listOf(select.targetList)) {
    const target = bodyOf(item, 'ResTarget')!;
    const val = target.val as Node;
    const fields = listOf(bodyOf(val, 'ColumnRef')?.fields);
    if (fields.length && kindOf(fields[fields.length - 1]) === 'A_Star') {
      for (const column of shape.columns)
        targets.push({
          name: column.name,
          expr: { kind: 'field', path: column.path, type: column.type, name: column.name },
        });
      continue;
    }
    const expr: OutputExpr = resolveAggregate(val, shape) ?? resolveValue(val, shape);
    targets.push({ name: typeof target.name === 'string' ? target.name : expr.name, expr });
  }
  return targets;
}

/** ORDER BY/GROUP BY items may name an output column or give its position, as in PostgreSQL. */
function byOutput(node: Node, targets: readonly Target[]): Target | undefined {
  const constant = bodyOf(node, 'A_Const');
  if (constant) {
    const { text, kind } = constantOf(constant);
    if (kind !== 'integer') return undefined;
    const target = targets[Number(text) - 1];
    if (!target)
      throw unsupported(
        `position ${text} in ORDER BY/GROUP BY (there are ${targets.length} columns)`,
        'use an existing position',
      );
    return target;
  }
  const fields = listOf(bodyOf(node, 'ColumnRef')?.fields);
  if (fields.length !== 1) return undefined;
  const name = String(bodyOf(fields[0], 'String')?.sval ?? '');
  return targets.find((target) => target.name === name && target.expr.kind !== 'const');
}

function sortable(field: FieldExpr, what: string): FieldExpr {
  if (field.path.length === 0 || field.type === 'jsonb')
    throw unsupported(`${what} by a JSON value`, "use ->> or a cast, e.g. ORDER BY (doc->>'n')::int");
  if (field.path.some((step) => /^\d+$/.test(step)))
    throw unsupported(`${what} by an array element`, 'declare a column for the field instead');
  return field;
}

function direction(sortBy: Node): { descending: boolean; nullsFirst: boolean } {
  if (sortBy.sortby_dir === 'SORTBY_USING') throw unsupported('ORDER BY ... USING', 'use ASC or DESC');
  const descending = sortBy.sortby_dir === 'SORTBY_DESC';
  const nulls = sortBy.sortby_nulls;
  return {
    descending,
    nullsFirst: nulls === 'SORTBY_NULLS_FIRST' || (nulls !== 'SORTBY_NULLS_LAST' && descending),
  };
}

function limits(select: Node, shape: TableShape, bindings: Bindings): { skip: number; limit: number | null } {
  const read = (node: unknown, clause: string): number | null => {
    if (!node) return null;
    const value = resolveValue(node as Node, shape);
    if (value.kind === 'field') throw unsupported(`a column in ${clause}`, 'use a constant or parameter');
    return bindings.count(value, clause);
  };
  return { skip: read(select.limitOffset, 'OFFSET') ?? 0, limit: read(select.limitCount, 'LIMIT') };
}

/** Fields fetched from MongoDB: each column's path up to its first array index; null when one needs the whole document. */
function projectionFor(columns: readonly OutputColumn[]): Record<string, 1> | null {
  const paths: string[] = [];
  for (const column of columns) {
    if (column.source.kind !== 'field') continue;
    const upToIndex = column.source.path.findIndex((step) => /^\d+$/.test(step));
    const path = upToIndex < 0 ? column.source.path : column.source.path.slice(0, upToIndex);
    if (path.length === 0) return null;
    paths.push(pathKey(path));
  }
  const unique = [...new Set(paths)].filter(
    (path) => !paths.some((other) => other !== path && path.startsWith(`${other}.`)),
  );
  return Object.fromEntries(unique.map((path) => [path, 1 as const]));
}

function isGrouped(select: Node, targets: readonly Target[]): boolean {
  return (
    listOf(select.groupClause).length > 0 ||
    Boolean(select.havingClause) ||
    targets.some((t) => t.expr.kind === 'aggregate')
  );
}

export function planSelect(select: Node, shape: TableShape, bindings: Bindings): FindPlan | GroupPlan {
  rejectUnsupportedClauses(select);
  const targets = targetsOf(select, shape);
  const filter = new FilterBuilder(shape, bindings).where(select.whereClause as Node | undefined);
  const { skip, limit } = limits(select, shape, bindings);
  if (isGrouped(select, targets)) return planGroup(select, shape, bindings, targets, filter, skip, limit);

  const columns: OutputColumn[] = targets.map(({ name, expr }) => {
    if (expr.kind === 'field') return { name, type: expr.type, source: { kind: 'field', path: expr.path } };
    if (expr.kind === 'const')
      return { name, type: expr.type ?? 'text', source: { kind: 'const', text: expr.text } };
    throw unsupported('parameters in the select list', 'select columns or constants');
  });
  const sort: SortKey[] = listOf(select.sortClause).map((item) => {
    const sortBy = bodyOf(item, 'SortBy')!;
    const node = sortBy.node as Node;
    const expr = byOutput(node, targets)?.expr ?? resolveValue(node, shape);
    if (expr.kind !== 'field') throw unsupported('ORDER BY a constant', 'order by a column');
    return { path: sortable(expr, 'ORDER BY').path, ...direction(sortBy) };
  });
  return {
    kind: 'find',
    collection: shape.collection,
    columns,
    filter,
    projection: projectionFor(columns),
    sort,
    skip,
    limit,
  };
}

function planGroup(
  select: Node,
  shape: TableShape,
  bindings: Bindings,
  targets: readonly Target[],
  filter: GroupPlan['filter'],
  skip: number,
  limit: number | null,
): GroupPlan {
  const keys: FieldExpr[] = listOf(select.groupClause).map((node) => {
    const expr = byOutput(node, targets)?.expr ?? resolveValue(node, shape);
    if (expr.kind !== 'field')
      throw unsupported('GROUP BY an expression that is not a column', 'group by columns');
    return sortable(expr, 'GROUP BY');
  });
  const aggregates: AggregateExpr[] = [];
  const aggregateIndex = (agg: AggregateExpr): number => {
    const same = (other: AggregateExpr) =>
      other.fn === agg.fn &&
      (other.arg && agg.arg
        ? pathKey(other.arg.path) === pathKey(agg.arg.path) && other.arg.type === agg.arg.type
        : other.arg === agg.arg);
    const found = aggregates.findIndex(same);
    if (found >= 0) return found;
    return aggregates.push(agg) - 1;
  };
  const keyIndex = (field: FieldExpr): number => {
    const index = keys.findIndex((key) => pathKey(key.path) === pathKey(field.path));
    if (index < 0) throw groupingError(`column "${field.name}"`);
    return index;
  };

  const columns: OutputColumn[] = targets.map(({ name, expr }) => {
    switch (expr.kind) {
      case 'field':
        return { name, type: expr.type, source: { kind: 'key', index: keyIndex(expr) } };
      case 'aggregate':
        return {
          name,
          type: aggregateType(expr),
          source: { kind: 'aggregate', index: aggregateIndex(expr) },
        };
      case 'const':
        return { name, type: expr.type ?? 'text', source: { kind: 'const', text: expr.text } };
      default:
        throw unsupported('parameters in the select list', 'select columns or constants');
    }
  });

  const order: GroupSortKey[] = listOf(select.sortClause).map((item) => {
    const sortBy = bodyOf(item, 'SortBy')!;
    const node = sortBy.node as Node;
    const expr = byOutput(node, targets)?.expr ?? resolveAggregate(node, shape) ?? resolveValue(node, shape);
    const source =
      expr.kind === 'aggregate'
        ? { kind: 'aggregate' as const, index: aggregateIndex(expr) }
        : expr.kind === 'field'
          ? { kind: 'key' as const, index: keyIndex(expr) }
          : undefined;
    if (!source) throw unsupported('ORDER BY a constant', 'order by a column or aggregate');
    return { source, ...direction(sortBy) };
  });

  const having = select.havingClause
    ? compileHaving(select.havingClause as Node, shape, bindings, { aggregateIndex, keyIndex, keys })
    : null;
  return {
    kind: 'group',
    collection: shape.collection,
    columns,
    filter,
    keys,
    aggregates,
    having,
    order,
    skip,
    limit,
  };
}
