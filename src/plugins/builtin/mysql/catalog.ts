// Tables of the mapped MySQL database as information_schema describes them: columns, their types, keys; cached per table.
import type { RowDataPacket } from 'mysql2/promise';
import type { Reader } from './bounded-pool.js';
import { mapColumnType, type MappedType } from './pg-types.js';

export interface TableColumn {
  readonly name: string;
  readonly mapped: MappedType | null;
  /** COLUMN_TYPE as MySQL writes it, for messages. */
  readonly columnType: string;
  readonly nullable: boolean;
  readonly autoIncrement: boolean;
  /** Character set of a text column (null for others): decides the binary collation comparisons use. */
  readonly charset: string | null;
}

export interface TableInfo {
  readonly name: string;
  readonly columns: readonly TableColumn[];
  readonly primaryKey: readonly string[];
  /** Every unique key (the primary key included), as column lists. */
  readonly uniqueKeys: readonly (readonly string[])[];
}

interface Cached {
  readonly table: Promise<TableInfo | null>;
  readonly at: number;
  /** The table once read, so that a statement over fresh definitions takes them without an await. */
  read?: TableInfo | null;
}

export class Catalog {
  private readonly tables = new Map<string, Cached>();

  constructor(
    private readonly pool: Reader,
    private readonly database: string,
    private readonly ttlMs: number,
  ) {}

  /**
   * The table, or null when the database has none by that name (asked again on every miss). A transaction
   * block reads through the connection it holds: waiting for a second pooled connection could wait forever
   * once every connection is held by a block that waits too.
   */
  async table(name: string, via: Reader = this.pool): Promise<TableInfo | null> {
    const cached = this.tables.get(name);
    if (cached && Date.now() - cached.at < this.ttlMs) {
      const table = await cached.table;
      if (table) return table;
    }
    const entry: Cached = { table: this.read(name, via), at: Date.now() };
    this.tables.set(name, entry);
    try {
      entry.read = await entry.table;
      return entry.read;
    } catch (err) {
      this.tables.delete(name);
      throw err;
    }
  }

  /** The table when its definitions are read and fresh, else undefined (then ask table()). */
  fresh(name: string): TableInfo | undefined {
    const cached = this.tables.get(name);
    return cached?.read && Date.now() - cached.at < this.ttlMs ? cached.read : undefined;
  }

  /** After DDL elsewhere: the next statement reads the definitions again. */
  forget(name: string): void {
    this.tables.delete(name);
  }

  private async read(name: string, via: Reader): Promise<TableInfo | null> {
    const [columns] = (await via.query(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType,
              NUMERIC_PRECISION AS \`precision\`, NUMERIC_SCALE AS scale, IS_NULLABLE AS nullable,
              EXTRA AS extra, CHARACTER_SET_NAME AS charset
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [this.database, name],
    )) as [RowDataPacket[], unknown];
    if (columns.length === 0) return null;
    const [keys] = (await via.query(
      `SELECT INDEX_NAME AS indexName, COLUMN_NAME AS columnName FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
      [this.database, name],
    )) as [RowDataPacket[], unknown];
    const jsonColumns = await this.jsonColumns(name, via);
    const unique = new Map<string, string[]>();
    for (const key of keys) {
      const list = unique.get(String(key.indexName)) ?? [];
      list.push(String(key.columnName));
      unique.set(String(key.indexName), list);
    }
    return {
      name,
      columns: columns.map((row) => {
        const columnName = String(row.name);
        const dataType = jsonColumns.has(columnName) ? 'json' : String(row.dataType).toLowerCase();
        return {
          name: columnName,
          mapped: mapColumnType({
            dataType,
            columnType: String(row.columnType).toLowerCase(),
            precision: row.precision === null ? null : Number(row.precision),
            scale: row.scale === null ? null : Number(row.scale),
          }),
          columnType: String(row.columnType),
          nullable: row.nullable === 'YES',
          autoIncrement: String(row.extra).includes('auto_increment'),
          charset: row.charset === null ? null : String(row.charset),
        };
      }),
      primaryKey: unique.get('PRIMARY') ?? [],
      uniqueKeys: [...unique.values()],
    };
  }

  /** MariaDB's JSON is LONGTEXT with a json_valid() check: the check tells which columns hold JSON. */
  private async jsonColumns(name: string, via: Reader): Promise<Set<string>> {
    try {
      const [checks] = (await via.query(
        `SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS
          WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`,
        [this.database, name],
      )) as [RowDataPacket[], unknown];
      const found = new Set<string>();
      for (const { clause } of checks) {
        const match = /^json_valid\(`([^`]+)`\)$/i.exec(String(clause).trim());
        if (match) found.add(match[1]);
      }
      return found;
    } catch {
      // MySQL's CHECK_CONSTRAINTS has no TABLE_NAME, and MySQL reports JSON columns as json anyway.
      return new Set();
    }
  }
}
