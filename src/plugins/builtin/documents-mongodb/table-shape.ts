// A collection seen as a table: its columns, each a typed path into the documents (declared or inferred by sampling).
import { bsonKind, type BsonKind } from './bson-kinds.js';
import type { DeclaredColumn } from './config.js';
import { pluginError, undefinedColumn } from './errors.js';
import type { PgType } from './pg-types.js';

export interface Column {
  readonly name: string;
  readonly type: PgType;
  /** Field names from the document root; empty for the whole document. */
  readonly path: readonly string[];
}

export interface TableShape {
  /** `schema.collection`, for messages. */
  readonly table: string;
  readonly collection: string;
  readonly columns: readonly Column[];
}

export const idColumn: Column = { name: '_id', type: 'text', path: ['_id'] };
export const docColumn: Column = { name: 'doc', type: 'jsonb', path: [] };

/** A field name a filter, projection or update may carry: no operator prefix, no dots (they would nest). */
export function checkFieldName(name: string): string {
  if (name === '' || name.startsWith('$') || name.includes('.') || name.includes('\0'))
    throw pluginError(
      'invalidName',
      `documents plugin: "${name}" cannot be used as a field name (empty, starts with $, or contains a dot)`,
    );
  return name;
}

export function declaredShape(
  table: string,
  collection: string,
  declared: Record<string, DeclaredColumn>,
): TableShape {
  const columns = Object.entries(declared)
    .filter(([name]) => name !== idColumn.name && name !== docColumn.name)
    .map(([name, column]) => ({
      name,
      type: column.type,
      path: (column.path ?? name).split('.').map(checkFieldName),
    }));
  return { table, collection, columns: [idColumn, ...columns, docColumn] };
}

/** The column type for the BSON types seen in one field (nulls ignored), widening numbers as PostgreSQL would. */
export function typeForKinds(kinds: ReadonlySet<BsonKind>): PgType {
  const seen = [...kinds].filter((kind) => kind !== 'null');
  if (seen.length === 0) return 'text';
  const only = (...allowed: BsonKind[]) => seen.every((kind) => allowed.includes(kind));
  if (only('int32')) return 'int4';
  if (only('int32', 'int64')) return 'int8';
  if (only('int32', 'int64', 'double')) return 'float8';
  if (only('int32', 'int64', 'double', 'decimal')) return 'numeric';
  if (only('string')) return 'text';
  if (only('objectId')) return 'text';
  if (only('bool')) return 'bool';
  if (only('date')) return 'timestamptz';
  return 'jsonb';
}

/** Columns for the top-level fields of sampled documents, in the order they first appear (as MongoDB's BI Connector does). */
export function inferredShape(table: string, collection: string, sample: readonly unknown[]): TableShape {
  const kinds = new Map<string, Set<BsonKind>>();
  for (const doc of sample) {
    if (bsonKind(doc) !== 'object') continue;
    for (const [field, value] of Object.entries(doc as Record<string, unknown>)) {
      if (field === idColumn.name || field === docColumn.name) continue;
      if (field === '' || field.startsWith('$') || field.includes('.') || field.includes('\0')) continue;
      let set = kinds.get(field);
      if (!set) kinds.set(field, (set = new Set()));
      set.add(bsonKind(value));
    }
  }
  const columns = [...kinds].map(([name, set]) => ({ name, type: typeForKinds(set), path: [name] }));
  return { table, collection, columns: [idColumn, ...columns, docColumn] };
}

/** Finds a column as PostgreSQL would (exact name), then by a unique case-insensitive match for camelCase fields. */
export function findColumn(shape: TableShape, name: string): Column {
  const exact = shape.columns.find((column) => column.name === name);
  if (exact) return exact;
  const folded = shape.columns.filter((column) => column.name.toLowerCase() === name.toLowerCase());
  if (folded.length === 1) return folded[0];
  throw undefinedColumn(name, shape.table);
}
