// hashShard's 32-bit arithmetic against the BigInt definition (partition hash modulo the shard count).
import { describe, expect, it } from 'vitest';
import { hashShard, partitionHash, type HashKeyType } from '../../../../src/router/sharding/pg-hash.js';

function reference(type: HashKeyType, value: string | bigint, shards: number): number {
  return Number(partitionHash(type, value) % BigInt(shards));
}

describe('hashShard', () => {
  it('agrees with the partition hash modulo n for integers, text and uuids', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const ints: (string | bigint)[] = [0n, 1n, -1n, 2n ** 31n, -(2n ** 63n), 2n ** 63n - 1n, '42', ' 17 '];
    for (let i = 0; i < 300; i++) ints.push(BigInt(next()) * BigInt(next()) * (i % 2 ? 1n : -1n));
    const texts = ['', 'a', 'hello world', 'ünïcødé', 'x'.repeat(37)];
    for (let i = 0; i < 100; i++) texts.push(String(next()).repeat((i % 5) + 1));
    const uuids = ['00000000-0000-0000-0000-000000000000', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'];
    for (const shards of [1, 2, 3, 4, 7, 16, 1000]) {
      for (const v of ints) expect(hashShard('int', v, shards)).toBe(reference('int', v, shards));
      for (const v of texts) expect(hashShard('text', v, shards)).toBe(reference('text', v, shards));
      for (const v of uuids) expect(hashShard('uuid', v, shards)).toBe(reference('uuid', v, shards));
    }
  });

  it('reads integer keys given as text alike, within and past the range kept out of BigInt', () => {
    const texts = ['0', '-0', '7', '-7', '4294967295', '4294967296', '-4294967296', '-4294967297'];
    texts.push('999999999999999', '-999999999999999', '9999999999999999', '-9223372036854775808');
    texts.push('9223372036854775807', '0012', '-0012', '+5', ' 8', '8 ', String(2 ** 53 - 1));
    let seed = 11;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 300; i++) texts.push(String(next() * next() * (i % 2 ? 1 : -1)));
    for (const shards of [2, 3, 7, 1000])
      for (const t of texts)
        expect(hashShard('int', t, shards)).toBe(reference('int', BigInt(t.trim()), shards));
  });

  it('refuses what PostgreSQL refuses for the type', () => {
    expect(() => hashShard('int', '-', 3)).toThrow();
    expect(() => hashShard('int', '12a', 3)).toThrow();
    expect(() => hashShard('int', '4.5', 3)).toThrow();
    expect(() => hashShard('uuid', 'not-a-uuid', 3)).toThrow();
  });
});
