// What the router hands the planner for a write that needs a read across shards first (route kind write-from-read).
import type { Node } from './ast-values.js';
import type { HashKeyType } from './pg-hash.js';
import type { TablePlacement } from './shard-map.js';

/** INSERT … SELECT: the SELECT runs on the coordinator; its rows are inserted split by the target's shard key. */
export interface InsertFromSelect {
  kind: 'insert-select';
  table: string;
  placement: TablePlacement;
  keyType: HashKeyType;
  /** The shard key's position among the SELECT's output columns. */
  keyIndex: number;
  /** `{ SelectStmt }` with the INSERT's WITH clause moved into it. */
  select: Node;
  /** The InsertStmt without its rows: target, columns, ON CONFLICT DO NOTHING, RETURNING. */
  insert: Node;
}

/** UPDATE or DELETE whose uncorrelated subqueries are evaluated first and written in as constants. */
export interface WriteWithSubqueries {
  kind: 'subquery-values';
  table: string;
  /** The whole statement, `{ UpdateStmt }` or `{ DeleteStmt }`. */
  stmt: Node;
  /** SubLink bodies inside `stmt` (the same objects), each to be replaced by its value. */
  sublinks: Node[];
}

/** A sharded table of UPDATE … FROM / DELETE … USING whose rows the coordinator reads for the write. */
export interface JoinedTable {
  /** Its position in the FROM (USING) list. */
  index: number;
  /** The name its columns are qualified with (alias, else table name), as written. */
  qualifier: string;
  table: string;
  /** The columns the write names, in the table's order: the only ones read and passed on. */
  columns: string[];
}

/** UPDATE … FROM / DELETE … USING sharded tables not co-located with the target (see route-join-write.ts). */
export interface WriteWithJoin {
  kind: 'join-values';
  table: string;
  /** The whole statement, `{ UpdateStmt }` or `{ DeleteStmt }`. */
  stmt: Node;
  items: JoinedTable[];
  /** The WHERE conjuncts the coordinator filters the joined rows by (a superset of those that join). */
  filter: unknown;
  /** The target's shards the write runs on. */
  shards: number[];
}

export type WriteFromRead = InsertFromSelect | WriteWithSubqueries | WriteWithJoin;

/** Why the statement is refused when there is no coordinator to read for it. */
export interface Refusal {
  message: string;
  hint?: string;
}
