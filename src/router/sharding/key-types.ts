// Which catalog types a hash-sharded key may have: those whose hash the shard map computes as PostgreSQL does.
import type { HashKeyType } from './pg-hash.js';

/** pg_type OIDs of key types, by how they hash. */
const byOid = new Map<number, HashKeyType>([
  [20, 'int'],
  [21, 'int'],
  [23, 'int'],
  [25, 'text'],
  [1043, 'text'],
  [19, 'text'],
  [1042, 'bpchar'],
  [2950, 'uuid'],
  [1082, 'date'],
  [1114, 'timestamp'],
  [16, 'bool'],
  [26, 'oid'],
  [1700, 'numeric'],
]);

/**
 * How a key column of this type and typmod hashes, or null when the proxy cannot place its values as
 * PostgreSQL would: timestamptz (its literals depend on the session's time zone), numeric(p,s) and
 * timestamp(p) (PostgreSQL rounds a literal to the typmod before hashing), and every other type.
 */
export function hashKeyTypeOf(typeOid: number, typmod: number): HashKeyType | null {
  const type = byOid.get(typeOid) ?? null;
  if (type === 'numeric' && typmod !== -1) return null;
  if (type === 'timestamp' && typmod !== -1 && typmod !== 6) return null;
  return type;
}
