// The shard map of one database: which tables are sharded (key, algorithm), copied, or live on one shard.
import type { ShardingConfig } from '../../config/schema.js';
import { hashShard, type HashKeyType } from './pg-hash.js';
import { compareKeys, type KeyValue } from './key-value.js';

export type Algorithm = 'hash' | 'range' | 'list';

interface RangePlace {
  shard: number;
  from?: KeyValue;
  to?: KeyValue;
}

/** How one sharded table places its rows. */
export class TablePlacement {
  constructor(
    readonly table: string,
    readonly column: string,
    readonly algorithm: Algorithm,
    readonly shardCount: number,
    private readonly ranges: RangePlace[] = [],
    private readonly lists: { shard: number; values: KeyValue[] }[] = [],
  ) {}

  /**
   * The shard holding a key, or null when no range or list holds it (PostgreSQL would refuse the row).
   * A NULL key goes where PostgreSQL's hash partitioning puts it: remainder 0.
   */
  shardOf(key: KeyValue | null, hashType: HashKeyType): number | null {
    if (key === null) return this.algorithm === 'hash' ? 0 : null;
    if (this.algorithm === 'hash') return hashShard(hashType, key, this.shardCount);
    if (this.algorithm === 'range') {
      const place = this.ranges.find(
        (r) =>
          (r.from === undefined || compareKeys(key, r.from) >= 0) &&
          (r.to === undefined || compareKeys(key, r.to) < 0),
      );
      return place ? place.shard : null;
    }
    const place = this.lists.find((l) => l.values.some((v) => compareKeys(key, v) === 0));
    return place ? place.shard : null;
  }

  /** Two tables whose equal keys always meet on the same shard: joins on their keys stay on one shard. */
  colocatedWith(other: TablePlacement): boolean {
    return (
      this.algorithm === other.algorithm &&
      this.shardCount === other.shardCount &&
      JSON.stringify(this.ranges) === JSON.stringify(other.ranges) &&
      JSON.stringify(this.lists) === JSON.stringify(other.lists)
    );
  }

  /** For EXPLAIN ROUTE and error messages. */
  describe(): string {
    return `${this.table}.${this.column} ${this.algorithm}/${this.shardCount}`;
  }
}

export type TableKind =
  | { kind: 'sharded'; placement: TablePlacement }
  | { kind: 'reference' }
  | { kind: 'unsharded'; shard: number };

export class ShardMap {
  private readonly sharded = new Map<string, TablePlacement>();
  private readonly reference: Set<string>;
  readonly defaultShard: number;

  constructor(
    config: ShardingConfig,
    readonly shardCount: number,
  ) {
    this.defaultShard = config.default_shard;
    this.reference = new Set(config.reference.map((t) => t.toLowerCase()));
    for (const [name, spec] of Object.entries(config.tables)) {
      const table = name.toLowerCase();
      if (typeof spec === 'string') {
        this.sharded.set(table, new TablePlacement(table, spec, config.algorithm, shardCount));
        continue;
      }
      const algorithm = spec.algorithm ?? config.algorithm;
      const ranges = (spec.ranges ?? []).map((r) => ({
        shard: r.shard,
        from: r.from === undefined ? undefined : keyOf(r.from),
        to: r.to === undefined ? undefined : keyOf(r.to),
      }));
      const lists = (spec.lists ?? []).map((l) => ({ shard: l.shard, values: l.values.map(keyOf) }));
      this.sharded.set(table, new TablePlacement(table, spec.column, algorithm, shardCount, ranges, lists));
    }
  }

  /** Where a table lives; names match on the table name alone (schema ignored), case-insensitively. */
  kindOf(table: string): TableKind {
    const name = table.toLowerCase();
    const placement = this.sharded.get(name);
    if (placement) return { kind: 'sharded', placement };
    if (this.reference.has(name)) return { kind: 'reference' };
    return { kind: 'unsharded', shard: this.defaultShard };
  }

  shardedTables(): TablePlacement[] {
    return [...this.sharded.values()];
  }

  allShards(): number[] {
    return Array.from({ length: this.shardCount }, (_, i) => i);
  }
}

function keyOf(v: number | string): KeyValue {
  return typeof v === 'number' ? BigInt(v) : v;
}
