// Lru: least-recently-used eviction order, refresh on get and set, hit and miss counters.
import { describe, expect, it } from 'vitest';
import { Lru } from '../../../src/sql/lru.js';

const keys = <K, V>(lru: Lru<K, V>, candidates: K[]) => candidates.filter((k) => lru.get(k) !== undefined);

describe('Lru', () => {
  it('evicts the oldest entry once over capacity', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    lru.set('d', 4);
    expect(lru.size).toBe(3);
    expect(lru.get('a')).toBeUndefined();
    expect([lru.get('b'), lru.get('c'), lru.get('d')]).toEqual([2, 3, 4]);
  });

  it('a get makes an entry the most recent', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    expect(lru.get('a')).toBe(1);
    lru.set('d', 4);
    expect(keys(lru, ['a', 'b', 'c', 'd'])).toEqual(['a', 'c', 'd']);
  });

  it('setting an existing key replaces its value and makes it the most recent without growing', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    lru.set('a', 10);
    expect(lru.size).toBe(3);
    lru.set('d', 4);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(10);
  });

  it('evicts in least-recently-used order over a longer sequence', () => {
    const lru = new Lru<number, number>(4);
    for (const k of [1, 2, 3, 4]) lru.set(k, k);
    lru.get(2);
    lru.get(1);
    lru.set(5, 5); // evicts 3
    lru.get(4);
    lru.set(6, 6); // evicts 2
    expect(keys(lru, [1, 2, 3, 4, 5, 6])).toEqual([1, 4, 5, 6]);
  });

  it('counts hits and misses', () => {
    const lru = new Lru<string, string>(2);
    lru.set('x', 'y');
    lru.get('x');
    lru.get('x');
    lru.get('nope');
    expect([lru.hits, lru.misses]).toEqual([2, 1]);
  });

  it('keeps falsy values other than undefined', () => {
    const lru = new Lru<string, number | string | null>(3);
    lru.set('zero', 0);
    lru.set('empty', '');
    lru.set('null', null);
    expect([lru.get('zero'), lru.get('empty'), lru.get('null')]).toEqual([0, '', null]);
    expect(lru.misses).toBe(0);
  });
});

describe('Lru with a byte budget', () => {
  const byLength = (maxBytes: number, maxEntries = 100) =>
    new Lru<string, string>({ maxEntries, maxBytes, cost: (k, v) => k.length + v.length });

  it('evicts the least recently used entries until the estimated bytes fit', () => {
    const lru = byLength(10);
    lru.set('a', '1111'); // 5
    lru.set('b', '2222'); // 10
    lru.get('a');
    lru.set('c', '33'); // 13: b goes, a was used more recently
    expect(keys(lru, ['a', 'b', 'c'])).toEqual(['a', 'c']);
    expect(lru.bytes).toBe(8);
  });

  it('does not keep an entry costing more than the whole budget, and drops an older value of its key', () => {
    const lru = byLength(10);
    lru.set('a', '1');
    lru.set('big', 'x'.repeat(20));
    expect(lru.get('big')).toBeUndefined();
    lru.set('a', 'y'.repeat(20));
    expect([lru.size, lru.bytes, lru.get('a')]).toEqual([0, 0, undefined]);
  });

  it('replacing a value recounts its cost', () => {
    const lru = byLength(100);
    lru.set('a', '1111');
    lru.set('a', '1');
    expect(lru.bytes).toBe(2);
  });

  it('still honours the entry count', () => {
    const lru = byLength(1000, 2);
    lru.set('a', '1');
    lru.set('b', '2');
    lru.set('c', '3');
    expect(keys(lru, ['a', 'b', 'c'])).toEqual(['b', 'c']);
    expect(lru.bytes).toBe(4);
  });

  it('stays within its budget over many entries of mixed sizes', () => {
    const lru = byLength(5000);
    for (let i = 0; i < 2000; i++) {
      lru.set(`k${i}`, 'v'.repeat((i * 37) % 700));
      expect(lru.bytes).toBeLessThanOrEqual(5000);
    }
    let sum = 0;
    for (let i = 0; i < 2000; i++) {
      const v = lru.get(`k${i}`);
      if (v !== undefined) sum += `k${i}`.length + v.length;
    }
    expect(sum).toBe(lru.bytes);
  });
});
