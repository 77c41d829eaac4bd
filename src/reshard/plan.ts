// What a reshard works on: the old and new shard lists, the new shard map, and each table's facts.
import type { ShardingConfig } from '../config/schema.js';
import type { HashKeyType } from '../router/sharding/pg-hash.js';
import { ShardMap } from '../router/sharding/shard-map.js';
import type { ServerLogin } from '../streams/stream-lock.js';

export interface ReshardPlan {
  /** The logical database, as the config names it; also names the slots and publications. */
  readonly database: string;
  /** The old shards' primaries, in shard order (one for an unsharded database). */
  readonly source: readonly ServerLogin[];
  /** The old map's default shard: where unsharded tables live now. */
  readonly sourceDefaultShard: number;
  /** The new shards' primaries, in shard order. */
  readonly target: readonly ServerLogin[];
  readonly targetSharding: ShardingConfig;
  /** The reverse stream after a cutover: from the new shards back to the old ones, under slots of its own. */
  readonly reverse?: boolean;
}

export type TableRole = 'sharded' | 'reference' | 'unsharded';

/** One user table as the reshard moves it. */
export interface TableFacts {
  /** `schema.table`, lower-case, as streams name it. */
  readonly name: string;
  /** Quoted `"schema"."table"`, for SQL. */
  readonly sql: string;
  readonly role: TableRole;
  readonly columns: readonly string[];
  readonly primaryKey: readonly string[];
  /** Sharded tables: the key column's position in `columns` and how it hashes. */
  readonly keyIndex: number;
  readonly keyType: HashKeyType;
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Slot and publication names: PostgreSQL's identifier rule, one per shard read (`r` marks the reverse stream's). */
export function slotName(database: string, shard: number, reverse = false): string {
  const db = database.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return `polyproxy_reshard_${db}_${reverse ? 'r' : ''}${shard}`.slice(0, 63);
}

/** The slot (and publication) a plan reads on its source shard `shard`. */
export const slotOf = (plan: ReshardPlan, shard: number) => slotName(plan.database, shard, plan.reverse);

export const targetMap = (plan: ReshardPlan) => new ShardMap(plan.targetSharding, plan.target.length);

/** The old shards whose copy of a table is read: all for sharded tables, one for the others. */
export function sourceShardsOf(plan: ReshardPlan, table: TableFacts): number[] {
  if (table.role === 'sharded') return plan.source.map((_, i) => i);
  return [table.role === 'reference' ? 0 : Math.min(plan.sourceDefaultShard, plan.source.length - 1)];
}
