// The coordinator database's objects as SQL: a postgres_fdw server per shard, each sharded table as a
// partitioned table whose partitions are foreign tables on the shards (bounds exactly as the shard map
// places rows), small reference tables as local copies, other tables as foreign tables on the default
// shard, and views from their definitions.
import type { ShardingConfig } from '../../config/schema.js';
import type { CatalogRelation, CatalogSnapshot } from './catalog.js';
import { columnList, ident, literal, ownSchema, qualified, serverName } from './layout-sql.js';
import { copyStatements, referenceCopyOf, type ReferenceCopy } from './reference-copies.js';

/** Where the coordinator reaches one shard's primary. */
export interface ShardServer {
  host: string;
  port: number;
  database: string;
}

export interface LayoutLogin {
  user: string;
  password: string;
}

export interface Layout {
  schemas: string[];
  /** CREATE TYPE of each enum type, run after the schemas and before the tables that use them. */
  enums: string[];
  /** Relation name -> the statements that mirror it (all or none of them take effect). */
  relations: Map<string, string[]>;
  /** CREATE VIEW per view, run after the tables (views over views: repeated until all exist). */
  views: { name: string; sql: string }[];
  /** Relation name -> why the coordinator has no copy of it (statements naming it stay refused). */
  skipped: Map<string, string>;
  /** Reference tables held as local copies. */
  copies: ReferenceCopy[];
}

/** The key types whose partition hash the shard map computes as PostgreSQL does (see pg-hash.ts). */
/** Key types (as format_type names them) the shard map hashes exactly as PostgreSQL's hash partitioning does. */
const hashableTypes = new Set([
  'smallint',
  'integer',
  'bigint',
  'uuid',
  'text',
  'name',
  'bpchar',
  'date',
  'timestamp without time zone',
  'timestamp(6) without time zone',
  'boolean',
  'oid',
  'numeric',
]);
const hashableType = (type: string) =>
  hashableTypes.has(type) || /^character varying(\(\d+\))?$/.test(type) || /^character\(\d+\)$/.test(type);

function remote(r: CatalogRelation): string {
  return `OPTIONS (schema_name ${literal(r.schema)}, table_name ${literal(r.name)})`;
}

/** Drops the mirrored schemas (whatever they were) and the servers; the extension's schema stays. */
export function dropStatements(): string[] {
  const dropSchemas = `DO $$ DECLARE s text; BEGIN
  FOR s IN SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', ${literal(ownSchema)})
    AND nspname NOT LIKE 'pg\\_%' LOOP EXECUTE pg_catalog.format('DROP SCHEMA %I CASCADE', s); END LOOP; END $$`;
  // Every shard server the mirror made, however many shards there were before a reshard.
  const dropServers = `DO $$ DECLARE s text; BEGIN
  FOR s IN SELECT srvname FROM pg_catalog.pg_foreign_server WHERE srvname ~ ${literal(`^${serverName(0).slice(0, -1)}[0-9]+$`)}
    LOOP EXECUTE pg_catalog.format('DROP SERVER %I CASCADE', s); END LOOP; END $$`;
  return [dropSchemas, dropServers];
}

export function serverStatements(servers: ShardServer[], login: LayoutLogin): string[] {
  return servers.flatMap((s, i) => {
    // Async append scans the shards in parallel; remote estimates give the planner the shards' row counts,
    // which it needs to push joins and aggregates down rather than pull rows; fdw_tuple_cost as PostgreSQL 17.
    // A remote scan costs a round trip to the shard: a high startup cost keeps the planner from rescanning
    // the shards once per outer row (nested loops, correlated subplans) where one hashed scan does.
    const options = [
      `host ${literal(s.host)}`,
      `port ${literal(String(s.port))}`,
      `dbname ${literal(s.database)}`,
      "async_capable 'true'",
      "use_remote_estimate 'true'",
      "fdw_tuple_cost '0.2'",
      "fdw_startup_cost '500'",
      "fetch_size '10000'",
    ];
    const user = [
      `user ${literal(login.user)}`,
      ...(login.password ? [`password ${literal(login.password)}`] : []),
    ];
    return [
      `CREATE SERVER ${serverName(i)} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (${options.join(', ')})`,
      `CREATE USER MAPPING FOR CURRENT_USER SERVER ${serverName(i)} OPTIONS (${user.join(', ')})`,
    ];
  });
}

type TableSpec = ShardingConfig['tables'][string];

/** Bounds per shard, as PostgreSQL partition bounds, or a reason the table cannot be partitioned so. */
function partitionBounds(
  spec: TableSpec,
  config: ShardingConfig,
  shardCount: number,
  keyType: string,
): string[] | string {
  const algorithm = typeof spec === 'string' ? config.algorithm : (spec.algorithm ?? config.algorithm);
  const value = (v: number | string) => (typeof v === 'number' ? String(v) : literal(v));
  if (algorithm === 'hash') {
    if (!hashableType(keyType))
      return `its key's type ${keyType} is not one the shard map hashes as PostgreSQL does`;
    return Array.from({ length: shardCount }, (_, i) => `WITH (MODULUS ${shardCount}, REMAINDER ${i})`);
  }
  const bounds: string[] = Array.from({ length: shardCount }, () => '');
  if (typeof spec === 'string') return 'its ranges or lists are not configured';
  if (algorithm === 'list') {
    for (let i = 0; i < shardCount; i++) {
      const values = (spec.lists ?? []).filter((l) => l.shard === i).flatMap((l) => l.values);
      if (values.length) bounds[i] = `IN (${values.map(value).join(', ')})`;
    }
    return bounds;
  }
  for (const r of spec.ranges ?? []) {
    // A foreign partition reads its whole remote table: two ranges on one shard would read its rows twice.
    if (bounds[r.shard]) return `shard ${r.shard} holds more than one of its ranges`;
    const from = r.from === undefined ? 'MINVALUE' : value(r.from);
    const to = r.to === undefined ? 'MAXVALUE' : value(r.to);
    bounds[r.shard] = `FROM (${from}) TO (${to})`;
  }
  return bounds;
}

function shardedTable(
  r: CatalogRelation,
  spec: TableSpec,
  config: ShardingConfig,
  shardCount: number,
): string[] | string {
  const column = (typeof spec === 'string' ? spec : spec.column).toLowerCase();
  const key = r.columns.find((c) => c.name === column);
  if (!key) return `its key column "${column}" is missing`;
  const algorithm = typeof spec === 'string' ? config.algorithm : (spec.algorithm ?? config.algorithm);
  const bounds = partitionBounds(spec, config, shardCount, key.type);
  if (typeof bounds === 'string') return bounds;
  const parent = qualified(r);
  const statements = [
    `CREATE TABLE ${parent} ${columnList(r.columns)} PARTITION BY ${algorithm.toUpperCase()} (${ident(key.name)})`,
  ];
  bounds.forEach((bound, i) => {
    if (!bound) return;
    const partition = `${ident(ownSchema)}.${ident(`${r.schema}.${r.name}.${i}`)}`;
    statements.push(
      `CREATE FOREIGN TABLE ${partition} PARTITION OF ${parent} FOR VALUES ${bound} SERVER ${serverName(i)} ${remote(r)}`,
    );
  });
  return statements;
}

/**
 * The objects mirroring one catalog snapshot. `shardedReaders`: materialized views that read sharded
 * tables (each shard's copy holds only its own rows: the coordinator has no whole copy of them).
 * `copied`: the reference tables (schema.name) held as local copies.
 */
export function layoutOf(
  catalog: CatalogSnapshot,
  config: ShardingConfig,
  shardCount: number,
  shardedReaders: ReadonlySet<string>,
  copied: ReadonlySet<string> = new Set(),
): Layout {
  const relations = new Map<string, string[]>();
  const copies: ReferenceCopy[] = [];
  const views: Layout['views'] = [];
  const skipped = new Map<string, string>();
  const specs = new Map(Object.entries(config.tables).map(([t, s]) => [t.toLowerCase(), s]));
  const schemas = [...new Set([...catalog.relations, ...catalog.enums].map((r) => r.schema))].map(
    (s) => `CREATE SCHEMA IF NOT EXISTS ${ident(s)}`,
  );
  const enums = catalog.enums.map(
    (e) => `CREATE TYPE ${qualified(e)} AS ENUM (${e.labels.map(literal).join(', ')})`,
  );
  for (const r of catalog.relations) {
    const spec = specs.get(r.name.toLowerCase());
    if (r.kind === 'v') {
      views.push({ name: r.name, sql: `CREATE VIEW ${qualified(r)} AS ${r.definition}` });
    } else if (spec !== undefined && r.kind !== 'm') {
      const made = shardedTable(r, spec, config, shardCount);
      if (typeof made === 'string') skipped.set(r.name, made);
      else relations.set(`${r.schema}.${r.name}`, made);
    } else if (copied.has(`${r.schema}.${r.name}`)) {
      const copy = referenceCopyOf(r);
      copies.push(copy);
      const server = serverName(config.default_shard);
      relations.set(copy.key, copyStatements(copy, r, columnList(r.columns), server));
    } else if (r.kind === 'm' && shardedReaders.has(r.name)) {
      skipped.set(
        r.name,
        "it is a materialized view over a sharded table: each shard's copy holds only its rows",
      );
    } else {
      relations.set(`${r.schema}.${r.name}`, [
        `CREATE FOREIGN TABLE ${qualified(r)} ${columnList(r.columns)} SERVER ${serverName(config.default_shard)} ${remote(r)}`,
      ]);
    }
  }
  return { schemas, enums, relations, views, skipped, copies };
}
