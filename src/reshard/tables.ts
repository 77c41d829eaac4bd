// The user tables a reshard moves, read from an old primary's catalog, and the new shard(s) each row goes to.
import { hashKeyTypeOf } from '../router/sharding/key-types.js';
import type { ShardMap } from '../router/sharding/shard-map.js';
import type { ServerLogin } from '../streams/stream-lock.js';
import { withClient } from './connect.js';
import { quoteIdent, type TableFacts } from './plan.js';

/**
 * Ordinary tables outside the system schemas; the reshard's own tables stay behind, and so does the proxy's
 * schema (the two-phase decision log, the primary epoch), which belongs to its server and to no shard map.
 */
const tablesSql = `
SELECT n.nspname AS schema, c.relname AS name,
  array(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum) AS columns,
  array(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)) AS pk,
  array(SELECT a.atttypid::int FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS types,
  array(SELECT a.atttypmod FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS typmods
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'polyproxy')
  AND n.nspname NOT LIKE 'pg_toast%'
  AND c.relname NOT LIKE 'polyproxy_reshard%'
ORDER BY 1, 2`;

export async function loadTables(server: ServerLogin, map: ShardMap): Promise<TableFacts[]> {
  return withClient(server, async (client) => {
    const { rows } = await client.query<{
      schema: string;
      name: string;
      columns: string[];
      pk: string[];
      types: number[];
      typmods: number[];
    }>(tablesSql);
    return rows.map((row) => {
      const kind = map.kindOf(row.name);
      const key = kind.kind === 'sharded' ? kind.placement.column.toLowerCase() : '';
      const keyIndex = row.columns.indexOf(key);
      if (kind.kind === 'sharded' && keyIndex < 0)
        throw new Error(`table ${row.name} has no shard key column ${key}`);
      if (row.pk.length === 0) throw new Error(`table ${row.schema}.${row.name} has no primary key`);
      const keyType = keyIndex < 0 ? 'text' : hashKeyTypeOf(row.types[keyIndex]!, row.typmods[keyIndex]!);
      // The same refusal as the proxy's: rows would land elsewhere than PostgreSQL's hash partitioning puts them.
      if (keyType === null && kind.kind === 'sharded' && kind.placement.algorithm === 'hash')
        throw new Error(
          `the shard key ${key} of ${row.name} has a type the proxy cannot hash as PostgreSQL does`,
        );
      return {
        name: `${row.schema}.${row.name}`.toLowerCase(),
        sql: `${quoteIdent(row.schema)}.${quoteIdent(row.name)}`,
        role: kind.kind,
        columns: row.columns,
        primaryKey: row.pk,
        keyIndex,
        keyType: keyType ?? 'text',
      };
    });
  });
}

/** The new shards a row belongs on, given its shard key in text form (null: SQL NULL). */
export function targetsOf(map: ShardMap, table: TableFacts, key: string | null): number[] {
  if (table.role === 'reference') return map.allShards();
  if (table.role === 'unsharded') return [map.defaultShard];
  const kind = map.kindOf(table.name.slice(table.name.indexOf('.') + 1));
  if (kind.kind !== 'sharded') return [map.defaultShard];
  const value = key === null ? null : table.keyType === 'int' ? BigInt(key) : key;
  const shard = kind.placement.shardOf(value, table.keyType);
  if (shard === null) throw new Error(`no new shard holds key ${key} of ${table.name}`);
  return [shard];
}
