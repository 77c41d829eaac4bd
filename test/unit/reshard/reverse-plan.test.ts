// The reverse stream's plan: the forward plan's sides swapped, slots of its own, rows placed by the old map.
import { describe, expect, it } from 'vitest';
import { shardingSchema } from '../../../src/config/database-schema.js';
import { slotName, slotOf, type ReshardPlan, type TableFacts } from '../../../src/reshard/plan.js';
import { reversedPlan } from '../../../src/reshard/reverse.js';
import { targetsOf } from '../../../src/reshard/tables.js';
import { hashShard } from '../../../src/router/sharding/pg-hash.js';
import { ShardMap } from '../../../src/router/sharding/shard-map.js';

const server = (database: string) => ({
  host: '127.0.0.1',
  port: 5432,
  user: 'u',
  password: 'p',
  database,
  connectTimeoutMs: 1000,
});
const oldSharding = shardingSchema.parse({ tables: { items: 'id' }, default_shard: 1 });
const forward: ReshardPlan = {
  database: 'Shop-1',
  source: ['o0', 'o1', 'o2'].map(server),
  sourceDefaultShard: 1,
  target: ['n0', 'n1'].map(server),
  targetSharding: shardingSchema.parse({ tables: { items: 'id' }, default_shard: 0 }),
};

describe('the reverse plan', () => {
  it('reads the new shards and writes the old ones by the old map', () => {
    const reverse = reversedPlan(forward, oldSharding);
    expect(reverse.source.map((s) => s.database)).toEqual(['n0', 'n1']);
    expect(reverse.target.map((s) => s.database)).toEqual(['o0', 'o1', 'o2']);
    expect(reverse.sourceDefaultShard).toBe(0);
    expect(reverse.targetSharding).toBe(oldSharding);
  });

  it('names slots apart from the forward ones', () => {
    const reverse = reversedPlan(forward, oldSharding);
    expect(slotOf(forward, 0)).toBe('polyproxy_reshard_shop_1_0');
    expect(slotOf(reverse, 0)).toBe('polyproxy_reshard_shop_1_r0');
    expect(slotName('shop', 1, true)).toBe('polyproxy_reshard_shop_r1');
  });

  it('places a row on the old shard the old map names', () => {
    const items: TableFacts = {
      name: 'public.items',
      sql: '"public"."items"',
      role: 'sharded',
      columns: ['id', 'v'],
      primaryKey: ['id'],
      keyIndex: 0,
      keyType: 'int',
    };
    const map = new ShardMap(oldSharding, 3);
    for (const id of [1, 2, 3, 17, 5_000_123])
      expect(targetsOf(map, items, String(id))).toEqual([hashShard('int', BigInt(id), 3)]);
  });
});
