// PostgreSQL's extended hash functions and partition hash, so hash placement matches PARTITION BY HASH.
//
// Bob Jenkins' lookup3 as PostgreSQL's src/common/hashfn.c uses it (little-endian byte order), the
// per-type wrappers (hashint8extended, hashtextextended, uuid_hash_extended, hash_numeric_extended, …) and the seed and combine
// step of compute_partition_hash_value. Written from the algorithm's description, checked against a
// real server with satisfies_hash_partition in the tests.

import { boolValue, dateDays, numericKey, oidValue, timestampMicros } from './key-hash-input.js';

/** HASH_PARTITION_SEED: the seed PostgreSQL passes to every extended hash when partitioning. */
export const hashPartitionSeed = 0x7a5b22367996dcfdn;

const mask64 = (1n << 64n) - 1n;

const rot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** The three-word state of lookup3, mixed in place. */
class Jenkins {
  constructor(
    public a: number,
    public b: number,
    public c: number,
  ) {}

  mix(): void {
    let { a, b, c } = this;
    a = (a - c) >>> 0;
    a = (a ^ rot(c, 4)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rot(a, 6)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rot(b, 8)) >>> 0;
    b = (b + a) >>> 0;
    a = (a - c) >>> 0;
    a = (a ^ rot(c, 16)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rot(a, 19)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rot(b, 4)) >>> 0;
    b = (b + a) >>> 0;
    this.a = a;
    this.b = b;
    this.c = c;
  }

  final(): void {
    let { a, b, c } = this;
    c = (c ^ b) >>> 0;
    c = (c - rot(b, 14)) >>> 0;
    a = (a ^ c) >>> 0;
    a = (a - rot(c, 11)) >>> 0;
    b = (b ^ a) >>> 0;
    b = (b - rot(a, 25)) >>> 0;
    c = (c ^ b) >>> 0;
    c = (c - rot(b, 16)) >>> 0;
    a = (a ^ c) >>> 0;
    a = (a - rot(c, 4)) >>> 0;
    b = (b ^ a) >>> 0;
    b = (b - rot(a, 14)) >>> 0;
    c = (c ^ b) >>> 0;
    c = (c - rot(b, 24)) >>> 0;
    this.a = a;
    this.b = b;
    this.c = c;
  }

  /** The seed perturbs the state as a 12-byte chunk of its two halves and four zero bytes. */
  seed(seed: Seed): void {
    if (seed.hi === 0 && seed.lo === 0) return;
    this.a = (this.a + seed.hi) >>> 0;
    this.b = (this.b + seed.lo) >>> 0;
    this.mix();
  }

  result(): bigint {
    return (BigInt(this.b) << 32n) | BigInt(this.c);
  }
}

/** A 64-bit seed as two 32-bit halves, so hashing needs no BigInt arithmetic. */
interface Seed {
  hi: number;
  lo: number;
}

function seedOf(seed: bigint): Seed {
  return { hi: Number((seed >> 32n) & 0xffffffffn), lo: Number(seed & 0xffffffffn) };
}

const partitionSeed = seedOf(hashPartitionSeed);

const initial = (len: number) => (0x9e3779b9 + len + 3923095) >>> 0;

/** hash_bytes_uint32_extended: a 32-bit value hashed as one word. */
export function hashUint32Extended(k: number, seed: bigint): bigint {
  return uint32State(k, seedOf(seed)).result();
}

function uint32State(k: number, seed: Seed): Jenkins {
  const v = initial(4);
  const s = new Jenkins(v, v, v);
  s.seed(seed);
  s.a = (s.a + (k >>> 0)) >>> 0;
  s.final();
  return s;
}

/** hash_bytes_extended: any byte string, read as little-endian words. */
export function hashBytesExtended(k: Uint8Array, seed: bigint): bigint {
  return bytesState(k, seedOf(seed)).result();
}

function bytesState(k: Uint8Array, seed: Seed): Jenkins {
  const v = initial(k.length);
  const s = new Jenkins(v, v, v);
  s.seed(seed);
  const word = (i: number) => (k[i] | (k[i + 1] << 8) | (k[i + 2] << 16) | (k[i + 3] << 24)) >>> 0;
  let pos = 0;
  let len = k.length;
  while (len >= 12) {
    s.a = (s.a + word(pos)) >>> 0;
    s.b = (s.b + word(pos + 4)) >>> 0;
    s.c = (s.c + word(pos + 8)) >>> 0;
    s.mix();
    pos += 12;
    len -= 12;
  }
  // The last bytes: c's lowest byte stays free (lookup3 reserves it for the length).
  const byte = (i: number, shift: number) => (k[pos + i] << shift) >>> 0;
  if (len >= 11) s.c = (s.c + byte(10, 24)) >>> 0;
  if (len >= 10) s.c = (s.c + byte(9, 16)) >>> 0;
  if (len >= 9) s.c = (s.c + byte(8, 8)) >>> 0;
  if (len >= 8) s.b = (s.b + byte(7, 24)) >>> 0;
  if (len >= 7) s.b = (s.b + byte(6, 16)) >>> 0;
  if (len >= 6) s.b = (s.b + byte(5, 8)) >>> 0;
  if (len >= 5) s.b = (s.b + byte(4, 0)) >>> 0;
  if (len >= 4) s.a = (s.a + byte(3, 24)) >>> 0;
  if (len >= 3) s.a = (s.a + byte(2, 16)) >>> 0;
  if (len >= 2) s.a = (s.a + byte(1, 8)) >>> 0;
  if (len >= 1) s.a = (s.a + byte(0, 0)) >>> 0;
  s.final();
  return s;
}

/** hashint8extended; int2 and int4 hash the same way for values they can hold. */
export function hashInt8Extended(value: bigint, seed: bigint): bigint {
  return int8State(value, seedOf(seed)).result();
}

/**
 * hashint8extended's fold of a key that is a plain decimal integer within ±(2^53 - 1), without BigInt:
 * the common case of every routed statement. Null for any other text, which takes the BigInt path.
 */
function smallInt8State(text: string, seed: Seed): Jenkins | null {
  const negative = text.charCodeAt(0) === 45;
  const first = negative ? 1 : 0;
  if (text.length === first || text.length - first > 15) return null;
  let n = 0;
  for (let i = first; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  if (negative) n = -n;
  const lo = (n % 0x100000000) + (n < 0 && n % 0x100000000 !== 0 ? 0x100000000 : 0);
  const hi = Math.floor(n / 0x100000000) >>> 0;
  return uint32State((lo ^ (n >= 0 ? hi : ~hi >>> 0)) >>> 0, seed);
}

function int8State(value: bigint, seed: Seed): Jenkins {
  const v = BigInt.asIntN(64, value);
  let lo = Number(v & 0xffffffffn) >>> 0;
  const hi = Number((v >> 32n) & 0xffffffffn) >>> 0;
  lo = (lo ^ (v >= 0n ? hi : ~hi >>> 0)) >>> 0;
  return uint32State(lo, seed);
}

/** hashtextextended for a deterministic collation: the UTF-8 bytes. */
export function hashTextExtended(value: string, seed: bigint): bigint {
  return hashBytesExtended(Buffer.from(value, 'utf8'), seed);
}

/** uuid_hash_extended: the 16 bytes of the UUID. */
export function hashUuidExtended(value: string, seed: bigint): bigint {
  return hashBytesExtended(uuidBytes(value), seed);
}

function uuidBytes(value: string): Buffer {
  const hex = value.replace(/[{}-]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`invalid input syntax for type uuid: "${value}"`);
  return Buffer.from(hex, 'hex');
}

/** hash_combine64, as compute_partition_hash_value folds each key column's hash in. */
export function hashCombine64(a: bigint, b: bigint): bigint {
  const mixed = (b + 0x49a0f4dd15e5a8e3n + ((a << 54n) & mask64) + (a >> 7n)) & mask64;
  return (a ^ mixed) & mask64;
}

/**
 * How a shard key hashes: `int` for int2/int4/int8 (and date, bool and oid values, which hash as the same
 * 32-bit word), `text` for text/varchar/name, `bpchar` without trailing spaces, `date` and `timestamp` by
 * their stored integer, `bool`, `oid`, `numeric` (unconstrained) and `uuid`.
 */
export type HashKeyType =
  'int' | 'text' | 'uuid' | 'bpchar' | 'date' | 'timestamp' | 'bool' | 'oid' | 'numeric';

/** The partition hash of a one-column key: the remainder modulo the shard count is the shard. */
export function partitionHash(type: HashKeyType, value: string | bigint): bigint {
  return hashCombine64(0n, extendedHash(type, value));
}

function extendedHash(type: HashKeyType, value: string | bigint): bigint {
  const text = String(value);
  switch (type) {
    case 'int':
      return hashInt8Extended(typeof value === 'bigint' ? value : BigInt(value), hashPartitionSeed);
    case 'uuid':
      return hashUuidExtended(text, hashPartitionSeed);
    case 'numeric':
      return hashNumericExtended(text, hashPartitionSeed);
    case 'timestamp':
      return hashInt8Extended(timestampMicros(text), hashPartitionSeed);
    case 'text':
    case 'bpchar':
      return hashTextExtended(type === 'bpchar' ? text.replace(/ +$/, '') : text, hashPartitionSeed);
    default:
      return hashUint32Extended(wordOf(type, text), hashPartitionSeed);
  }
}

/** date (hashint4extended), bool (hashcharextended) and oid (hashoidextended) hash one 32-bit word. */
function wordOf(type: 'date' | 'bool' | 'oid', text: string): number {
  return (type === 'date' ? dateDays(text) : type === 'bool' ? boolValue(text) : oidValue(text)) >>> 0;
}

/**
 * hash_numeric_extended: the base-10000 digits (int16, little-endian) without leading and trailing zero
 * groups, XORed with the weight; NaN and infinities hash to the seed, zero to the seed minus one.
 */
export function hashNumericExtended(text: string, seed: bigint): bigint {
  const key = numericKey(text);
  if (key === 'special') return seed;
  if (key === 'zero') return (seed - 1n) & mask64;
  const bytes = new Uint8Array(key.digits.length * 2);
  key.digits.forEach((d, i) => {
    bytes[i * 2] = d & 0xff;
    bytes[i * 2 + 1] = d >> 8;
  });
  return (hashBytesExtended(bytes, seed) ^ BigInt.asUintN(64, BigInt(key.weight))) & mask64;
}

/**
 * The shard of a key among n hash shards, as satisfies_hash_partition(parent, n, i, key) decides: the
 * partition hash modulo n, computed on its two 32-bit halves (it runs for every routed statement).
 */
export function hashShard(type: HashKeyType, value: string | bigint, shards: number): number {
  let s: Jenkins;
  if (type === 'int')
    s =
      (typeof value === 'string' && smallInt8State(value, partitionSeed)) ||
      int8State(typeof value === 'bigint' ? value : BigInt(value), partitionSeed);
  else if (type === 'uuid' || type === 'text') {
    const text = String(value);
    s = bytesState(type === 'uuid' ? uuidBytes(text) : Buffer.from(text, 'utf8'), partitionSeed);
  } else return Number(partitionHash(type, value) % BigInt(shards));
  // hash_combine64(0, h) is h + 0x49a0f4dd15e5a8e3 modulo 2^64; the extended hash is (b << 32) | c.
  const low = s.c + 0x15e5a8e3;
  const high = (s.b + 0x49a0f4dd + (low > 0xffffffff ? 1 : 0)) >>> 0;
  return ((high % shards) * (0x100000000 % shards) + ((low >>> 0) % shards)) % shards;
}
