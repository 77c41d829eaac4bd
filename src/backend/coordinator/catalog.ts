// What the coordinator mirrors of the shards' schema: relations, their columns, and view definitions,
// read from the default shard (every shard has the same schema).
import type { ShardChannel } from '../shard-channel.js';
import { runSimple, textOf } from '../shard-exec.js';

export interface CatalogColumn {
  name: string;
  /** The type as format_type() writes it, typmod included. */
  type: string;
  notNull: boolean;
  /** A collation other than the type's default, schema-qualified and quoted; null for the default. */
  collation: string | null;
}

export interface CatalogRelation {
  schema: string;
  name: string;
  /** pg_class.relkind: r table, p partitioned table, f foreign table, v view, m materialized view. */
  kind: string;
  columns: CatalogColumn[];
  /** A view's definition (pg_get_viewdef); null for other relations. */
  definition: string | null;
}

/** An enum type of a user schema, its labels in their sort order. */
export interface CatalogEnum {
  schema: string;
  name: string;
  labels: string[];
}

export interface CatalogSnapshot {
  relations: CatalogRelation[];
  /** Enum types, which the mirror's columns need before its tables exist. */
  enums: CatalogEnum[];
  /** The shard database's encoding and locale, which the coordinator database takes for equal sorting. */
  locale: { encoding: string; collate: string; ctype: string };
  /** Stands for the whole snapshot: equal keys, nothing to rebuild. */
  key: string;
}

/** User schemas only: the system ones and the proxy's own decision log are not mirrored. */
const relationsQuery = `
SELECT n.nspname, c.relname, c.relkind,
  coalesce(json_agg(json_build_array(a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
    CASE WHEN a.attcollation <> t.typcollation THEN pg_catalog.format('%I.%I', cn.nspname, co.collname) END)
    ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '[]')::text,
  CASE WHEN c.relkind = 'v' THEN pg_catalog.pg_get_viewdef(c.oid) END
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'polyproxy') AND n.nspname NOT LIKE 'pg\\_%'
GROUP BY n.nspname, c.relname, c.relkind, c.oid
ORDER BY n.nspname, c.relname`;

const enumsQuery = `
SELECT n.nspname, t.typname, json_agg(e.enumlabel ORDER BY e.enumsortorder)::text
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'polyproxy') AND n.nspname NOT LIKE 'pg\\_%'
GROUP BY n.nspname, t.typname
ORDER BY n.nspname, t.typname`;

const localeQuery =
  'SELECT pg_catalog.pg_encoding_to_char(encoding), datcollate, datctype FROM pg_catalog.pg_database ' +
  'WHERE datname = pg_catalog.current_database()';

export async function readCatalog(channel: ShardChannel): Promise<CatalogSnapshot> {
  const answer = await runSimple(channel, relationsQuery);
  const relations = answer.rows.map((row): CatalogRelation => {
    const [schema, name, kind, columns, definition] = row.map(textOf);
    const parsed = JSON.parse(columns!) as [string, string, boolean, string | null][];
    return {
      schema: schema!,
      name: name!,
      kind: kind!,
      columns: parsed.map(([n, type, notNull, collation]) => ({ name: n, type, notNull, collation })),
      definition,
    };
  });
  const enums = (await runSimple(channel, enumsQuery)).rows.map((row): CatalogEnum => {
    const [schema, name, labels] = row.map(textOf);
    return { schema: schema!, name: name!, labels: JSON.parse(labels!) as string[] };
  });
  const [encoding, collate, ctype] = (await runSimple(channel, localeQuery)).rows[0].map((v) => textOf(v)!);
  const locale = { encoding, collate, ctype };
  return { relations, enums, locale, key: JSON.stringify({ relations, enums }) };
}
