// The shard map places keys by hash, range and list, and tells sharded, reference and other tables apart.
import { describe, expect, it } from 'vitest';
import { ShardMap } from '../../../../src/router/sharding/shard-map.js';
import { hashCombine64, hashShard } from '../../../../src/router/sharding/pg-hash.js';

const map = new ShardMap(
  {
    tables: {
      users: 'id',
      orders: { column: 'user_id' },
      events: {
        column: 'ts',
        algorithm: 'range',
        ranges: [
          { shard: 0, to: 100 },
          { shard: 1, from: 100, to: 200 },
          { shard: 2, from: 200 },
        ],
      },
      regions: {
        column: 'code',
        algorithm: 'list',
        lists: [
          { shard: 0, values: ['eu', 'uk'] },
          { shard: 2, values: ['us'] },
        ],
      },
    },
    reference: ['countries'],
    default_shard: 1,
    algorithm: 'hash',
  },
  3,
);

describe('ShardMap', () => {
  it('tells table kinds apart, case-insensitively', () => {
    expect(map.kindOf('USERS').kind).toBe('sharded');
    expect(map.kindOf('countries')).toEqual({ kind: 'reference' });
    expect(map.kindOf('settings')).toEqual({ kind: 'unsharded', shard: 1 });
  });

  it('places hash keys as PostgreSQL does', () => {
    const users = map.kindOf('users');
    if (users.kind !== 'sharded') throw new Error('users is sharded');
    for (const k of [1n, 2n, 42n, -7n])
      expect(users.placement.shardOf(k, 'int')).toBe(hashShard('int', k, 3));
    // NULL keys go to remainder 0, as with PARTITION BY HASH.
    expect(users.placement.shardOf(null, 'int')).toBe(0);
  });

  it('places range keys by inclusive lower and exclusive upper bounds', () => {
    const events = map.kindOf('events');
    if (events.kind !== 'sharded') throw new Error('events is sharded');
    expect(events.placement.shardOf(-5n, 'int')).toBe(0);
    expect(events.placement.shardOf(99n, 'int')).toBe(0);
    expect(events.placement.shardOf(100n, 'int')).toBe(1);
    expect(events.placement.shardOf('150', 'int')).toBe(1);
    expect(events.placement.shardOf(200n, 'int')).toBe(2);
  });

  it('places list keys and has no shard for an unlisted one', () => {
    const regions = map.kindOf('regions');
    if (regions.kind !== 'sharded') throw new Error('regions is sharded');
    expect(regions.placement.shardOf('uk', 'text')).toBe(0);
    expect(regions.placement.shardOf('us', 'text')).toBe(2);
    expect(regions.placement.shardOf('jp', 'text')).toBeNull();
  });

  it('co-locates tables with the same algorithm and shard count only', () => {
    const [users, orders, events] = ['users', 'orders', 'events'].map((t) => map.kindOf(t));
    if (users.kind !== 'sharded' || orders.kind !== 'sharded' || events.kind !== 'sharded')
      throw new Error('sharded');
    expect(users.placement.colocatedWith(orders.placement)).toBe(true);
    expect(users.placement.colocatedWith(events.placement)).toBe(false);
  });

  it('combines hashes with PostgreSQL constant and shifts', () => {
    expect(hashCombine64(0n, 0n)).toBe(0x49a0f4dd15e5a8e3n);
    expect(hashCombine64(1n, 0n)).toBe(1n ^ (0x49a0f4dd15e5a8e3n + (1n << 54n)));
  });
});
