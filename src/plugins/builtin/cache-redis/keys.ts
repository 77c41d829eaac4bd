// Where a cached result lives in Redis: the entry key derived from everything that shapes the result, and
// the counters (database generation, table versions) that say whether an entry still holds.
import { createHash } from 'node:crypto';
import type { Statement } from '../../api.js';

/** Bumped when the entry key's inputs or the entry layout change, so old entries are never read. */
const keyVersion = 'polyproxy-cache/1';

/**
 * Feeds each field with its length first, so no two different inputs give the same byte stream
 * (`ab`,`c` and `a`,`bc` differ; a null parameter differs from an empty one).
 */
class Digest {
  private readonly hash = createHash('sha256');

  text(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    return this.uint(bytes.length).bytes(bytes);
  }

  nullableText(value: string | null): this {
    return value === null ? this.bytes(Buffer.of(0)) : this.bytes(Buffer.of(1)).text(value);
  }

  uint(value: number): this {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64BE(BigInt(value));
    return this.bytes(bytes);
  }

  private bytes(value: Buffer): this {
    this.hash.update(value);
    return this;
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

/** The SHA-256 of database, user, result-shaping settings, statement text, parameters and result formats. */
export function entryDigest(stmt: Statement): string {
  const digest = new Digest().text(keyVersion).text(stmt.session.database).text(stmt.session.user);
  const settings = [...stmt.session.settings].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  digest.uint(settings.length);
  for (const [name, value] of settings) digest.text(name).text(value);
  digest.text(stmt.sql);
  digest.uint(stmt.params.length);
  for (const param of stmt.params) digest.nullableText(param);
  digest.uint(stmt.paramTypes.length);
  for (const oid of stmt.paramTypes) digest.uint(oid);
  digest.uint(stmt.resultFormats.length);
  for (const format of stmt.resultFormats) digest.uint(format);
  return digest.hex();
}

/**
 * The table a version counter stands for: its name without schema. `s.t` and unqualified `t` may be the same
 * table (search_path decides), so both count as `t`; a write to `other.t` then also invalidates reads of
 * `s.t`, which costs a miss but never serves a stale result.
 */
export function versionedTable(table: string): string {
  return table.slice(table.lastIndexOf('.') + 1);
}

/** The distinct version counters a set of tables maps to, in a stable order. */
export function versionedTables(tables: readonly string[]): string[] {
  return [...new Set(tables.map(versionedTable))].sort();
}

export interface DatabaseKeys {
  /** The entry for a digest. */
  entry(digest: string): string;
  /** Bumped by a write that may have changed anything (`*`): every entry of the database records it. */
  readonly generation: string;
  version(table: string): string;
}

/**
 * Every key of one database shares the hash tag `{database}`, so a Redis Cluster keeps them in one slot and
 * a script may read counters and write an entry atomically. Names are URI-encoded: `{`, `}` and `:` in a
 * database or table name cannot end the tag early or run two names together.
 */
export function databaseKeys(prefix: string, database: string): DatabaseKeys {
  const base = `${prefix}{${encodeURIComponent(database)}}:`;
  return {
    entry: (digest) => `${base}e:${digest}`,
    generation: `${base}gen`,
    version: (table) => `${base}v:${encodeURIComponent(table)}`,
  };
}
