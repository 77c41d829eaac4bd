// Rows and columns as shards send them (RowDescription and DataRow, decoded), and one shard's answer.

/** One column of a RowDescription. */
export interface Column {
  name: string;
  tableOid: number;
  attnum: number;
  typeOid: number;
  typeSize: number;
  typmod: number;
  format: number;
}

/** Values as the server sent them (text format unless the client asked for binary); null is SQL NULL. */
export type Row = (Buffer | null)[];

/** One shard's answer to a statement. */
export interface ShardResult {
  shard: number;
  columns: Column[] | null;
  rows: Row[];
  tag: string;
}
