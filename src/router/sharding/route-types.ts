// The router's answer for a statement on a sharded database, and what it needs to know to give it.
import type { Node, ParamValues } from './ast-values.js';
import type { HashKeyType } from './pg-hash.js';
import type { ViewLookup } from './relation-kinds.js';
import type { Refusal, WriteFromRead } from './write-from-read.js';
import type { ShardMap, TablePlacement } from './shard-map.js';

/** What the router knows of a table from the catalog: its key's hash type and its columns in order. */
export interface TableMeta {
  keyType: HashKeyType;
  columns: string[];
}

export type MetaLookup = (table: string) => TableMeta | undefined;

export type ShardRoute =
  /** The whole statement on one shard, as the client sent it. */
  | { kind: 'single'; shard: number; write: boolean; reason: string }
  /** A SELECT over several shards: the planner builds a scatter-gather plan. */
  | { kind: 'scatter'; shards: number[]; reason: string }
  /** The same write on several shards (in one distributed transaction); `sum` adds the row counts. */
  | { kind: 'multi-write'; shards: number[]; count: 'sum' | 'first'; reason: string }
  /** An INSERT whose rows belong to different shards: one INSERT per shard. */
  | { kind: 'insert-split'; parts: { shard: number; stmt: Node }[]; reason: string }
  /** DDL and other utility statements: every shard, failures reported per shard. */
  | { kind: 'ddl'; shards: number[]; reason: string }
  /** COPY FROM STDIN: rows split by key (`keyIndex` >= 0) or copied to every shard of `shards`. */
  | {
      kind: 'copy-in';
      shards: number[];
      keyIndex: number;
      placement?: TablePlacement;
      keyType?: HashKeyType;
      reason: string;
    }
  /** A write that needs a read across shards first: the coordinator reads, the proxy writes; else `refusal`. */
  | { kind: 'write-from-read'; write: WriteFromRead; refusal: Refusal }
  | { kind: 'unsupported'; message: string; hint?: string };

export interface RouteContext {
  map: ShardMap;
  meta: MetaLookup;
  params: ParamValues;
  /** View facts of relations the map does not shard; without them every such relation is taken for a table. */
  views?: ViewLookup;
}

export const unsupported = (message: string, hint?: string): ShardRoute => ({
  kind: 'unsupported',
  message,
  hint,
});
