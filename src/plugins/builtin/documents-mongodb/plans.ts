// What a translated statement does, as data: the executor runs it, EXPLAIN ROUTE prints it, tests assert on it.
import type { AggregateExpr, FieldExpr } from './expressions.js';
import type { Filter } from './filter.js';
import type { PgType } from './pg-types.js';
import type { Sortable } from './sql-compare.js';

/** Where a result column's value comes from. */
export type OutputSource =
  | { readonly kind: 'field'; readonly path: readonly string[] }
  | { readonly kind: 'const'; readonly text: string | null }
  | { readonly kind: 'key'; readonly index: number }
  | { readonly kind: 'aggregate'; readonly index: number };

export interface OutputColumn {
  readonly name: string;
  readonly type: PgType;
  readonly source: OutputSource;
}

export interface SortKey {
  readonly path: readonly string[];
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

export interface FindPlan {
  readonly kind: 'find';
  readonly collection: string;
  readonly columns: readonly OutputColumn[];
  readonly filter: Filter;
  /** Null when a column needs the whole document. */
  readonly projection: Record<string, 1> | null;
  readonly sort: readonly SortKey[];
  readonly skip: number;
  readonly limit: number | null;
}

/** A grouped row as the proxy sees it after merging the pipelines' results. */
export interface GroupRow {
  readonly keys: readonly unknown[];
  /** Per aggregate: text for output, sortable value for HAVING and ORDER BY. */
  readonly aggregates: readonly { readonly text: string | null; readonly value: Sortable }[];
}

/** HAVING, evaluated over grouped rows with SQL's NULL logic (null = unknown). */
export type RowPredicate = (row: GroupRow) => boolean | null;

export interface GroupSortKey {
  readonly source: { readonly kind: 'key' | 'aggregate'; readonly index: number };
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

export interface GroupPlan {
  readonly kind: 'group';
  readonly collection: string;
  readonly columns: readonly OutputColumn[];
  readonly filter: Filter;
  readonly keys: readonly FieldExpr[];
  readonly aggregates: readonly AggregateExpr[];
  readonly having: RowPredicate | null;
  readonly order: readonly GroupSortKey[];
  readonly skip: number;
  readonly limit: number | null;
}

export interface InsertPlan {
  readonly kind: 'insert';
  readonly collection: string;
  readonly documents: readonly Record<string, unknown>[];
  /** RETURNING columns, read from each inserted document. */
  readonly returning: readonly OutputColumn[] | null;
}

export interface UpdatePlan {
  readonly kind: 'update';
  readonly collection: string;
  readonly filter: Filter;
  readonly update: { $set?: Record<string, unknown>; $unset?: Record<string, ''> };
}

export interface DeletePlan {
  readonly kind: 'delete';
  readonly collection: string;
  readonly filter: Filter;
}

export type Plan = FindPlan | GroupPlan | InsertPlan | UpdatePlan | DeletePlan;
