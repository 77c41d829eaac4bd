// A shard key value as the router sees it: integers as bigint, everything else as its text.
export type KeyValue = bigint | string;

/** Integers compare numerically, text by code point (C collation); an integer sorts before text. */
export function compareKeys(a: KeyValue, b: KeyValue): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'bigint') {
    const n = asInteger(b as string);
    return n === null ? -1 : compareKeys(a, n);
  }
  if (typeof b === 'bigint') {
    const n = asInteger(a);
    return n === null ? 1 : compareKeys(n, b);
  }
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The integer a text holds, or null: `'42'` compared with an integer bound is 42. */
export function asInteger(s: string): bigint | null {
  return /^\s*[+-]?\d+\s*$/.test(s) ? BigInt(s.trim()) : null;
}
