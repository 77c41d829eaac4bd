// INSERT, UPDATE and DELETE → insertMany, updateMany ($set/$unset) and deleteMany, values typed by their columns.
import type { Bindings } from './bindings.js';
import { pluginError, unsupported } from './errors.js';
import { pathKey, resolveValue, type ConstExpr, type ParamExpr } from './expressions.js';
import { FilterBuilder } from './filter.js';
import type { PgType } from './pg-types.js';
import type { DeletePlan, InsertPlan, OutputColumn, UpdatePlan } from './plans.js';
import { bodyOf, kindOf, listOf, type Node } from './sql-ast.js';
import { checkFieldName, docColumn, idColumn, type Column, type TableShape } from './table-shape.js';

/** A column named in INSERT or UPDATE: a known one, or a new top-level field typed by its value. */
function targetColumn(shape: TableShape, name: string): Column | undefined {
  return shape.columns.find((column) => column.name === name);
}

function valueOf(node: Node, shape: TableShape): ConstExpr | ParamExpr {
  const value = resolveValue(node, shape);
  if (value.kind === 'field')
    throw unsupported('values computed from columns', 'write constants or parameters');
  return value;
}

/** The type of a value stored in a field no column describes: from a cast or the constant's syntax, else text. */
function ownType(value: ConstExpr | ParamExpr, bindings: Bindings): PgType {
  if (value.type) return value.type;
  return (value.kind === 'param' ? bindings.clientTypeOf(value.number) : undefined) ?? 'text';
}

function setPath(doc: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let target = doc;
  for (const step of path.slice(0, -1)) {
    const next = target[step];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) target[step] = {};
    target = target[step] as Record<string, unknown>;
  }
  target[path[path.length - 1]] = value;
}

function typedValue(
  name: string,
  node: Node,
  shape: TableShape,
  bindings: Bindings,
): { path: readonly string[]; value: unknown } {
  const value = valueOf(node, shape);
  const column = targetColumn(shape, name);
  if (column === idColumn) return { path: ['_id'], value: bindings.storable(value, 'text', true) };
  if (column) return { path: column.path, value: bindings.storable(value, column.type) };
  return { path: [checkFieldName(name)], value: bindings.storable(value, ownType(value, bindings)) };
}

export function planInsert(
  insert: Node,
  shape: TableShape,
  bindings: Bindings,
  returning: (nodes: Node[]) => OutputColumn[],
): InsertPlan {
  if (insert.onConflictClause) throw unsupported('ON CONFLICT', 'update with UPDATE ... WHERE _id = ...');
  if (insert.withClause) throw unsupported('WITH queries', 'insert values directly');
  const select = bodyOf(insert.selectStmt, 'SelectStmt');
  const rows = listOf(select?.valuesLists);
  if (!select || rows.length === 0)
    throw unsupported('INSERT ... SELECT and DEFAULT VALUES', 'insert with VALUES');
  const names = listOf(insert.cols).map((col) => String(bodyOf(col, 'ResTarget')?.name ?? ''));
  const documents = rows.map((row) => {
    const values = listOf(bodyOf(row, 'List')?.items);
    if (names.length === 0) {
      if (values.length !== 1)
        throw unsupported('INSERT without a column list', 'name the columns, or insert one jsonb document');
      return wholeDocument(values[0], shape, bindings);
    }
    if (values.length !== names.length)
      throw pluginError('syntaxError', 'INSERT has more expressions than target columns');
    let doc: Record<string, unknown> = {};
    names.forEach((name, i) => {
      if (kindOf(values[i]) === 'SetToDefault') return;
      if (name === docColumn.name) {
        doc = { ...wholeDocument(values[i], shape, bindings), ...doc };
        return;
      }
      const { path, value } = typedValue(name, values[i], shape, bindings);
      if (value !== null) setPath(doc, path, value);
    });
    return doc;
  });
  const returningNodes = listOf((insert.returningClause as Node | undefined)?.exprs);
  return {
    kind: 'insert',
    collection: shape.collection,
    documents,
    returning: returningNodes.length ? returning(returningNodes) : null,
  };
}

function wholeDocument(node: Node, shape: TableShape, bindings: Bindings): Record<string, unknown> {
  const doc = bindings.storable(valueOf(node, shape), 'jsonb');
  // Describe knows no values (a parameter reads as NULL): the document is checked when Execute plans again.
  if (bindings.describing) return {};
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw pluginError('invalidParameterValue', 'documents plugin: a document must be a JSON object');
  return doc as Record<string, unknown>;
}

export function planUpdate(update: Node, shape: TableShape, bindings: Bindings): UpdatePlan {
  if (listOf(update.fromClause).length)
    throw unsupported('UPDATE ... FROM', 'update one collection with constants');
  if (update.returningClause)
    throw unsupported('UPDATE ... RETURNING', 'select the rows after updating them');
  if (update.withClause) throw unsupported('WITH queries', 'update directly');
  const set: Record<string, unknown> = {};
  const unset: Record<string, ''> = {};
  for (const item of listOf(update.targetList)) {
    const target = bodyOf(item, 'ResTarget')!;
    const name = String(target.name);
    if (listOf(target.indirection).length)
      throw unsupported('assigning to a part of a column', 'declare a column for the nested field');
    if (name === docColumn.name)
      throw unsupported('replacing the whole document', 'set the fields one by one');
    if (name === idColumn.name)
      throw pluginError('featureNotSupported', 'documents plugin: _id cannot be changed');
    const { path, value } = typedValue(name, target.val as Node, shape, bindings);
    if (value === null) unset[pathKey(path)] = '';
    else set[pathKey(path)] = value;
  }
  const filter = new FilterBuilder(shape, bindings).where(update.whereClause as Node | undefined);
  return {
    kind: 'update',
    collection: shape.collection,
    filter,
    update: {
      ...(Object.keys(set).length ? { $set: set } : {}),
      ...(Object.keys(unset).length ? { $unset: unset } : {}),
    },
  };
}

export function planDelete(del: Node, shape: TableShape, bindings: Bindings): DeletePlan {
  if (listOf(del.usingClause).length)
    throw unsupported('DELETE ... USING', 'delete from one collection with WHERE');
  if (del.returningClause) throw unsupported('DELETE ... RETURNING', 'select the rows before deleting them');
  if (del.withClause) throw unsupported('WITH queries', 'delete directly');
  const filter = new FilterBuilder(shape, bindings).where(del.whereClause as Node | undefined);
  return { kind: 'delete', collection: shape.collection, filter };
}
