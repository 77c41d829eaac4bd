// The Redis side of the cache: entries guarded by per-database generation and per-table version counters,
// read in one atomic script and stored only while those counters are unchanged.
import { randomInt } from 'node:crypto';
import type { RedisClient } from './redis-client.js';

/**
 * Returns the entry (or false) and the value of each counter. A counter that does not exist yet, or was
 * evicted, starts at a random value: a counter that restarted from 0 could come back to a value some old
 * entry recorded and make that entry look valid again.
 * KEYS[1] entry, KEYS[2..] counters; ARGV[1] the start value of a missing counter.
 */
const lookupScript = `
local found = { redis.call('GET', KEYS[1]) }
for i = 2, #KEYS do
  local value = redis.call('GET', KEYS[i])
  if not value then
    value = ARGV[1]
    redis.call('SET', KEYS[i], value)
  end
  found[i] = value
end
return found`;

/**
 * Stores the entry only if every counter still holds the value read before the query ran. A write that
 * committed (and bumped) meanwhile may be missing from the result; such an entry could never be served,
 * since it records the old counters, but storing it would replace a newer, valid entry under the same key.
 * KEYS[1] entry, KEYS[2..] counters; ARGV[1] TTL in ms, ARGV[2] entry, ARGV[3..] expected counter values.
 */
const storeScript = `
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) ~= ARGV[i + 1] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
return 1`;

/** Advances each counter; a missing one starts at a random value (see lookupScript). ARGV[1] that value. */
const bumpScript = `
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('INCR', KEYS[i])
  else
    redis.call('SET', KEYS[i], ARGV[1])
  end
end
return #KEYS`;

type Arg = string | Buffer | number;

interface ScriptCommands {
  polyproxyCacheLookupBuffer(numKeys: number, ...args: Arg[]): Promise<(Buffer | null)[]>;
  polyproxyCacheStore(numKeys: number, ...args: Arg[]): Promise<number>;
  polyproxyCacheBump(numKeys: number, ...args: Arg[]): Promise<number>;
}

/** Large enough that two random starts practically never meet, small enough for INCR to go on for ever. */
const startValue = () => String(randomInt(1, 2 ** 47));

export interface Lookup {
  /** The stored entry bytes, or null. */
  readonly entry: Buffer | null;
  /** The counters' current values, in the order they were asked for. */
  readonly counters: readonly string[];
}

export class VersionStore {
  private readonly scripts: ScriptCommands;

  constructor(client: RedisClient) {
    client.defineCommand('polyproxyCacheLookup', { lua: lookupScript });
    client.defineCommand('polyproxyCacheStore', { lua: storeScript });
    client.defineCommand('polyproxyCacheBump', { lua: bumpScript });
    this.scripts = client as unknown as ScriptCommands;
  }

  /** One round trip: the entry and its counters, as of one instant. All keys must share a hash slot. */
  async lookup(entryKey: string, counterKeys: readonly string[]): Promise<Lookup> {
    const reply = await this.scripts.polyproxyCacheLookupBuffer(
      1 + counterKeys.length,
      entryKey,
      ...counterKeys,
      startValue(),
    );
    return { entry: reply[0], counters: reply.slice(1).map((value) => value!.toString('latin1')) };
  }

  /** True when stored; false when a counter moved since `counters` were read. */
  async store(
    entryKey: string,
    counterKeys: readonly string[],
    counters: readonly string[],
    entry: Buffer,
    ttlMs: number,
  ): Promise<boolean> {
    const keys = [entryKey, ...counterKeys];
    const stored = await this.scripts.polyproxyCacheStore(keys.length, ...keys, ttlMs, entry, ...counters);
    return stored === 1;
  }

  /** Invalidates every entry that recorded one of these counters. All keys must share a hash slot. */
  async bump(counterKeys: readonly string[]): Promise<void> {
    await this.scripts.polyproxyCacheBump(counterKeys.length, ...counterKeys, startValue());
  }
}
