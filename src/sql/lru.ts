// A bounded least-recently-used map, by entry count and by estimated bytes: Map keeps insertion order, so the first key is the oldest.

export interface LruLimits<K, V> {
  /** Most entries kept. */
  maxEntries: number;
  /** Most estimated bytes kept, the sum of `cost` over the entries. */
  maxBytes: number;
  /** What an entry is estimated to hold in memory, in bytes; one costing more than maxBytes is not kept. */
  cost(key: K, value: V): number;
}

export class Lru<K, V> {
  private map = new Map<K, V>();
  /** Costs live in their own map so a hit moves one key, as in a plain Map-backed LRU. */
  private costs: Map<K, number> | null;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly limits: LruLimits<K, V> | null;
  private total = 0;
  hits = 0;
  misses = 0;
  /** The key of the last hit and its value, while it is still the newest entry (undefined: none). */
  private lastKey: K | undefined = undefined;
  private lastHit: V | undefined = undefined;

  constructor(limits: number | LruLimits<K, V>) {
    if (typeof limits === 'number') {
      this.maxEntries = limits;
      this.maxBytes = Infinity;
      this.limits = null;
      this.costs = null;
    } else {
      this.maxEntries = limits.maxEntries;
      this.maxBytes = limits.maxBytes;
      this.limits = limits;
      this.costs = new Map();
    }
  }

  get(key: K): V | undefined {
    // The same key as the last hit is already the newest: no move, and a fresh string key is not hashed.
    if (this.lastHit !== undefined && key === this.lastKey) {
      this.hits++;
      return this.lastHit;
    }
    const v = this.map.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, v);
    this.lastKey = key;
    this.lastHit = v;
    return v;
  }

  set(key: K, value: V): void {
    this.forgetLastHit();
    this.delete(key);
    if (this.costs) {
      const cost = this.limits!.cost(key, value);
      if (cost > this.maxBytes) return;
      this.costs.set(key, cost);
      this.total += cost;
    }
    this.map.set(key, value);
    while (this.map.size > this.maxEntries || this.total > this.maxBytes)
      this.delete(this.map.keys().next().value as K);
  }

  delete(key: K): void {
    if (key === this.lastKey) this.forgetLastHit();
    if (!this.map.delete(key) || !this.costs) return;
    this.total -= this.costs.get(key)!;
    this.costs.delete(key);
  }

  private forgetLastHit(): void {
    this.lastKey = undefined;
    this.lastHit = undefined;
  }

  get size(): number {
    return this.map.size;
  }

  /** The estimated bytes held (0 without a byte budget). */
  get bytes(): number {
    return this.total;
  }
}
