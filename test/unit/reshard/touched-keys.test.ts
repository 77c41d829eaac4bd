// The keys a reshard stream records for the cutover's held tail: one entry per primary key whatever the other
// columns, nothing outside a verification, and a whole-table compare after a truncate or too many keys.
import { describe, expect, it } from 'vitest';
import type { TableFacts } from '../../../src/reshard/plan.js';
import { maxTailKeys, TouchedKeys } from '../../../src/reshard/touched.js';

const table = (name: string, primaryKey: string[]): TableFacts => ({
  name: `public.${name}`,
  sql: `"public"."${name}"`,
  role: 'sharded',
  columns: [...primaryKey, 'v'],
  primaryKey,
  keyIndex: 0,
  keyType: 'int',
});
const orders = table('orders', ['shop', 'id']);
const items = table('items', ['id']);

describe('TouchedKeys', () => {
  it('records nothing before start() and after stop()', () => {
    const touched = new TouchedKeys();
    touched.add(items, { id: '1', v: '2' });
    touched.start();
    touched.stop();
    touched.add(items, { id: '3', v: '4' });
    expect(touched.snapshot()).toEqual({ keys: new Map(), whole: new Set() });
  });

  it('keeps one entry per primary key, its columns only', () => {
    const touched = new TouchedKeys();
    touched.start();
    touched.add(orders, { shop: 'a', id: '1', v: '1' });
    touched.add(orders, { shop: 'a', id: '1', v: '2' });
    touched.add(orders, { shop: 'b', id: '1', v: '3' });
    expect(touched.snapshot().keys.get('public.orders')).toEqual([
      { shop: 'a', id: '1' },
      { shop: 'b', id: '1' },
    ]);
  });

  it('compares a truncated table whole, and one past maxTailKeys', () => {
    const touched = new TouchedKeys();
    touched.start();
    touched.add(orders, { shop: 'a', id: '1' });
    touched.addWhole(orders);
    touched.add(orders, { shop: 'a', id: '2' });
    for (let i = 0; i <= maxTailKeys; i++) touched.add(items, { id: String(i) });
    const { keys, whole } = touched.snapshot();
    expect(whole).toEqual(new Set(['public.orders', 'public.items']));
    expect(keys.size).toBe(0);
  });

  it('starts afresh: what an earlier verification recorded is forgotten', () => {
    const touched = new TouchedKeys();
    touched.start();
    touched.add(items, { id: '1' });
    touched.addWhole(orders);
    touched.start();
    touched.add(items, { id: '2' });
    expect(touched.snapshot()).toEqual({
      keys: new Map([['public.items', [{ id: '2' }]]]),
      whole: new Set(),
    });
  });
});
