// Table definitions read from Cassandra's system_schema: columns in SELECT * order, partition and clustering keys.
import { parseCqlType, type CqlType } from './cql-types.js';
import { undefinedTable } from './errors.js';

export interface Column {
  readonly name: string;
  readonly type: CqlType;
  readonly kind: 'partition_key' | 'clustering' | 'regular' | 'static';
  /** Clustering columns only: the order rows are stored in. */
  readonly descending: boolean;
}

export interface Table {
  readonly keyspace: string;
  readonly name: string;
  /** Partition key, clustering columns, then the others by name (the order CQL's SELECT * returns). */
  readonly columns: readonly Column[];
  readonly partitionKey: readonly Column[];
  readonly clustering: readonly Column[];
  readonly byName: ReadonlyMap<string, Column>;
  /** Reads may restrict any column (ALLOW FILTERING); from the plugin's config. */
  readonly allowFiltering: boolean;
}

/** Runs one CQL read with bound values; the handler's client. */
export type CqlRead = (cql: string, params: unknown[]) => Promise<unknown[][]>;

interface SchemaRow {
  column_name: string;
  kind: string;
  position: number;
  clustering_order: string;
  type: string;
}

const columnsCql =
  'SELECT column_name, kind, position, clustering_order, type FROM system_schema.columns ' +
  'WHERE keyspace_name = ? AND table_name = ?';

export function tableFrom(
  keyspace: string,
  name: string,
  rows: readonly SchemaRow[],
  allowFiltering: boolean,
): Table {
  const byKind = (kind: string) =>
    rows.filter((row) => row.kind === kind).sort((a, b) => a.position - b.position);
  const column = (row: SchemaRow): Column => ({
    name: row.column_name,
    type: parseCqlType(row.type),
    kind: row.kind as Column['kind'],
    descending: row.clustering_order === 'desc',
  });
  const partitionKey = byKind('partition_key').map(column);
  const clustering = byKind('clustering').map(column);
  const others = rows
    .filter((row) => row.kind === 'regular' || row.kind === 'static')
    .sort((a, b) => (a.column_name < b.column_name ? -1 : a.column_name > b.column_name ? 1 : 0))
    .map(column);
  const columns = [...partitionKey, ...clustering, ...others];
  return {
    keyspace,
    name,
    columns,
    partitionKey,
    clustering,
    byName: new Map(columns.map((c) => [c.name, c])),
    allowFiltering,
  };
}

export class Catalog {
  /** Per table: its definition being read or read, and once read the definition itself (no await to use it). */
  private readonly tables = new Map<string, { table: Promise<Table>; until: number; read?: Table }>();

  constructor(
    private readonly read: CqlRead,
    private readonly keyspace: string,
    private readonly schema: string,
    private readonly ttlMs: number,
    private readonly allowFiltering: ReadonlySet<string>,
  ) {}

  /** The table named in SQL (`name` as written, already case-folded by the parser). */
  table(name: string): Promise<Table> {
    const cached = this.tables.get(name);
    if (cached && cached.until > Date.now()) return cached.table;
    const table = this.load(name);
    const entry: { table: Promise<Table>; until: number; read?: Table } = {
      table,
      until: Date.now() + this.ttlMs,
    };
    this.tables.set(name, entry);
    table.then(
      (read) => (entry.read = read),
      () => this.tables.delete(name),
    );
    return table;
  }

  /** The table's definition when it has been read and is still fresh, else undefined (then `table` reads it). */
  known(name: string): Table | undefined {
    const cached = this.tables.get(name);
    return cached && cached.until > Date.now() ? cached.read : undefined;
  }

  /** Reread a table's definition on next use (after an error that may come from a changed table). */
  forget(name: string): void {
    this.tables.delete(name);
  }

  private async load(name: string): Promise<Table> {
    const rows = (await this.read(columnsCql, [this.keyspace, name])).map(
      ([column_name, kind, position, clustering_order, type]) =>
        ({ column_name, kind, position, clustering_order, type }) as SchemaRow,
    );
    if (rows.length === 0) throw undefinedTable(`${this.schema}.${name}`);
    return tableFrom(this.keyspace, name, rows, this.allowFiltering.has(name.toLowerCase()));
  }
}
