// Reference tables as plain local tables on the coordinator: the planner joins them without remote
// EXPLAINs or scans. Before each statement that may read them, a procedure compares each copy's
// fingerprint (row count and the set of xmins of its rows on the default shard, which every committed
// write changes) with the one it was copied at, and copies again what changed.
import type { ShardChannel } from '../shard-channel.js';
import { runSimple, textOf } from '../shard-exec.js';
import type { CatalogRelation } from './catalog.js';
import { ident, literal, ownSchema } from './layout-sql.js';

/** Reference tables up to this size on the default shard are copied; larger ones stay foreign tables. */
const copyByteLimit = 64 * 1024 * 1024;

export interface ReferenceCopy {
  /** schema.name, the key of its fingerprint. */
  key: string;
  /** The local copy, schema-qualified and quoted. */
  local: string;
  /** The foreign table of the default shard's rows. */
  remote: string;
  /** A foreign table of the same rows' xmin only, for the fingerprint. */
  xmins: string;
}

const own = (name: string) => `${ident(ownSchema)}.${ident(name)}`;
const stateTable = own('reference_copies');
const refreshProcedure = own('refresh_reference_copies');

export function referenceCopyOf(r: CatalogRelation): ReferenceCopy {
  const key = `${r.schema}.${r.name}`;
  return {
    key,
    local: `${ident(r.schema)}.${ident(r.name)}`,
    remote: own(`${key}.remote`),
    xmins: own(`${key}.xmin`),
  };
}

/** The local table and the two foreign tables of one copy (created empty: the first refresh fills it). */
export function copyStatements(
  copy: ReferenceCopy,
  r: CatalogRelation,
  columns: string,
  server: string,
): string[] {
  const options = `OPTIONS (schema_name ${literal(r.schema)}, table_name ${literal(r.name)})`;
  return [
    `CREATE FOREIGN TABLE ${copy.remote} ${columns} SERVER ${server} ${options}`,
    `CREATE FOREIGN TABLE ${copy.xmins} (x xid OPTIONS (column_name 'xmin')) SERVER ${server} ${options}`,
    `CREATE TABLE ${copy.local} ${columns}`,
  ];
}

const fingerprint = (c: ReferenceCopy) =>
  `(SELECT count(*) || '/' || coalesce(md5(string_agg(DISTINCT x::text, ',')), '') FROM ${c.xmins})`;
const stored = (c: ReferenceCopy) => `(SELECT fingerprint FROM ${stateTable} WHERE name = ${literal(c.key)})`;

/**
 * The fingerprint table and the refresh procedure. The procedure checks without a lock first (the usual
 * case: nothing changed); else it commits (ending the remote snapshot of the check), takes a lock that
 * orders refreshes, and copies each changed table in one remote snapshot with its fingerprint, so a copy
 * never goes back to older rows than one already there.
 */
export function refreshStatements(copies: ReferenceCopy[]): string[] {
  const stale = copies.map((c) => `${fingerprint(c)} IS DISTINCT FROM ${stored(c)}`).join(' OR ');
  const refresh = copies.map(
    (c) => `  fp := ${fingerprint(c)};
  IF fp IS DISTINCT FROM ${stored(c)} THEN
    DELETE FROM ${c.local};
    INSERT INTO ${c.local} SELECT * FROM ${c.remote};
    INSERT INTO ${stateTable} VALUES (${literal(c.key)}, fp)
      ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint;
    ANALYZE ${c.local};
  END IF;`,
  );
  return [
    `DROP TABLE IF EXISTS ${stateTable}`,
    `CREATE TABLE ${stateTable} (name text PRIMARY KEY, fingerprint text NOT NULL)`,
    `CREATE OR REPLACE PROCEDURE ${refreshProcedure}() LANGUAGE plpgsql AS $refresh$
DECLARE fp text;
BEGIN
  IF NOT (${stale || 'false'}) THEN RETURN; END IF;
  COMMIT;
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(${literal(refreshProcedure)}));
${refresh.join('\n')}
END $refresh$`,
  ];
}

/** Brings the copies up to date with the default shard; a no-op but for one check when nothing changed. */
export async function refreshCopies(c: ShardChannel): Promise<void> {
  await runSimple(c, `CALL ${refreshProcedure}()`);
}

/** The reference tables small enough to copy, by their size on the default shard. */
export async function copyableReferences(
  defaultShard: ShardChannel,
  relations: CatalogRelation[],
): Promise<Set<string>> {
  if (relations.length === 0) return new Set();
  const names = relations.map((r) => literal(`${ident(r.schema)}.${ident(r.name)}`));
  const answer = await runSimple(
    defaultShard,
    `SELECT n, pg_catalog.pg_total_relation_size(n::regclass) <= ${copyByteLimit} FROM unnest(ARRAY[${names.join(', ')}]) n`,
  );
  const small = new Set(answer.rows.filter((row) => textOf(row[1]) === 't').map((row) => textOf(row[0])!));
  return new Set(
    relations
      .filter((r) => small.has(`${ident(r.schema)}.${ident(r.name)}`))
      .map((r) => `${r.schema}.${r.name}`),
  );
}
