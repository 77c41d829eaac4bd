// Result sets as scatter-gather plans pass them between operators, and what operators need to run.
import type { Column, Row, ShardResult } from '../backend/rows.js';

export type { Column, Row, ShardResult };

export interface ResultSet {
  columns: Column[];
  rows: Row[];
  /** Rows per shard, in each shard's order, as a Route produced them (for MergeSort). */
  parts?: Row[][];
}

export interface ExecContext {
  /** Runs one statement on each shard (in parallel) with the statement's parameters. */
  runOnShards(shards: number[], sql: string): Promise<ShardResult[]>;
}

export interface Operator {
  readonly children: Operator[];
  /** One line for EXPLAIN ROUTE and golden plan files. */
  describe(): string;
  run(ctx: ExecContext): Promise<ResultSet>;
}

/** A computed column, typed as PostgreSQL types an aggregate's result. */
export function computedColumn(name: string, typeOid: number): Column {
  const sizes: Record<number, number> = { 16: 1, 20: 8, 21: 2, 23: 4, 700: 4, 701: 8 };
  return { name, tableOid: 0, attnum: 0, typeOid, typeSize: sizes[typeOid] ?? -1, typmod: -1, format: 0 };
}

/** The plan's tree as indented lines. */
export function explainLines(op: Operator, depth = 0): string[] {
  return [`${'  '.repeat(depth)}${op.describe()}`, ...op.children.flatMap((c) => explainLines(c, depth + 1))];
}
