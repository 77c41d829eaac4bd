// Result sets as plans pass them between operators, what operators need to run, and what a statement returns.
import type { Column, Row, ShardResult } from '../backend/rows.js';
import type { ShardChannel } from '../backend/shard-channel.js';
import type { BoundParams } from '../backend/shard-wire.js';

export type { Column, Row, ShardResult };

export interface ResultSet {
  columns: Column[];
  rows: Row[];
  /** Rows per shard, in each shard's order, as a Route produced them (for MergeSort). */
  parts?: Row[][];
}

/** What one statement answers the client: columns (null: no RowDescription), rows and its tag. */
export interface Outcome {
  columns: Column[] | null;
  rows: Row[];
  /** CommandComplete tag; null for an empty query. */
  tag: string | null;
}

/** How a statement takes its shard connections. */
export interface ShardUse {
  /** Several shards written in one transaction the proxy opens (two-phase commit) when no block is open. */
  atomic: boolean;
  /** Primaries only, and read-your-writes positions learnt after it. */
  write: boolean;
}

/** The client side of COPY FROM STDIN: its next message, and a way to send it CopyInResponse. */
export interface CopyClient {
  next(): Promise<{ type: number; body: Buffer }>;
  send(b: Buffer): void;
}

/** What statement operators (writes, DDL, COPY) need beyond rows: the session's shard connections. */
export interface StatementExec {
  /** The client's statement text, its Bind and result formats (passed on where the text goes as is). */
  readonly sql: string;
  readonly bound: BoundParams;
  readonly formats: number[];
  /** A transaction block is open: statements join it on every shard they touch. */
  readonly inBlock: boolean;
  /** The client's copy sub-protocol; null where the statement came through the extended protocol. */
  readonly copy: CopyClient | null;
  /** Runs `fn` with a connection per shard: the open block's, an atomic transaction's, or autocommit ones. */
  onShards<T>(shards: number[], use: ShardUse, fn: (chs: ShardChannel[]) => Promise<T>): Promise<T>;
  /** One call per connection in parallel; when one fails, the others are cancelled. */
  onEach<T>(chs: ShardChannel[], f: (c: ShardChannel, i: number) => Promise<T>): Promise<T[]>;
  /** The catalog may change (DDL): cached table facts are dropped now, and again when the open block ends. */
  catalogChanged(): void;
}

export interface ExecContext {
  /** Runs one statement on each shard (in parallel) with the statement's parameters. */
  runOnShards(shards: number[], sql: string): Promise<ShardResult[]>;
  /** Present when a whole statement runs (absent where only row operators are exercised). */
  statement?: StatementExec;
}

/** A node of a plan, as EXPLAIN ROUTE and the golden plan files show it. */
export interface PlanNode {
  readonly children: readonly PlanNode[];
  /** One line for EXPLAIN ROUTE and golden plan files. */
  describe(): string;
}

/** An operator over rows: its children's result sets in, one result set out. */
export interface Operator extends PlanNode {
  readonly children: Operator[];
  run(ctx: ExecContext): Promise<ResultSet>;
}

/** The root of a statement's plan: runs it and answers what the client gets. */
export interface StatementPlan extends PlanNode {
  execute(ctx: ExecContext): Promise<Outcome>;
}

/** The statement part of a context; an error when a statement operator runs without one. */
export function statementOf(ctx: ExecContext): StatementExec {
  if (!ctx.statement) throw new Error('a statement operator ran without its statement context');
  return ctx.statement;
}

/** A computed column, typed as PostgreSQL types an aggregate's result. */
export function computedColumn(name: string, typeOid: number): Column {
  const sizes: Record<number, number> = { 16: 1, 20: 8, 21: 2, 23: 4, 700: 4, 701: 8 };
  return { name, tableOid: 0, attnum: 0, typeOid, typeSize: sizes[typeOid] ?? -1, typmod: -1, format: 0 };
}

/** The plan's tree as indented lines. */
export function explainLines(op: PlanNode, depth = 0): string[] {
  return [`${'  '.repeat(depth)}${op.describe()}`, ...op.children.flatMap((c) => explainLines(c, depth + 1))];
}
