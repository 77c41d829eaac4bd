// PostgreSQL types the plugin answers with, and the one each MySQL column type maps to.
export type PgType =
  | 'bool'
  | 'int2'
  | 'int4'
  | 'int8'
  | 'numeric'
  | 'float4'
  | 'float8'
  | 'text'
  | 'bytea'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'jsonb';

export const typeOids: Record<PgType, number> = {
  bool: 16,
  int2: 21,
  int4: 23,
  int8: 20,
  numeric: 1700,
  float4: 700,
  float8: 701,
  text: 25,
  bytea: 17,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  jsonb: 3802,
};

/** A MySQL column as information_schema.COLUMNS describes it. */
export interface MysqlColumnType {
  /** DATA_TYPE, lower-case: int, varchar, decimal, ... */
  readonly dataType: string;
  /** COLUMN_TYPE, lower-case: int(10) unsigned, tinyint(1), enum('a','b'), ... */
  readonly columnType: string;
  readonly precision: number | null;
  readonly scale: number | null;
}

export interface MappedType {
  readonly type: PgType;
  /** atttypmod: numeric's precision and scale; -1 when none. */
  readonly typeModifier: number;
}

const plain = (type: PgType): MappedType => ({ type, typeModifier: -1 });

/** Unsigned integers get the next wider type, as their range needs; tinyint(1) is MySQL's boolean. */
export function mapColumnType(column: MysqlColumnType): MappedType | null {
  const unsigned = column.columnType.includes('unsigned');
  switch (column.dataType) {
    case 'tinyint':
      return plain(/^tinyint\(1\)/.test(column.columnType) && !unsigned ? 'bool' : 'int2');
    case 'smallint':
      return plain(unsigned ? 'int4' : 'int2');
    case 'mediumint':
      return plain('int4');
    case 'int':
    case 'integer':
      return plain(unsigned ? 'int8' : 'int4');
    case 'bigint':
      return unsigned ? { type: 'numeric', typeModifier: ((20 << 16) | 0) + 4 } : plain('int8');
    case 'year':
      return plain('int2');
    case 'decimal':
    case 'numeric':
      return { type: 'numeric', typeModifier: (((column.precision ?? 10) << 16) | (column.scale ?? 0)) + 4 };
    case 'float':
      return plain('float4');
    case 'double':
    case 'real':
      return plain('float8');
    case 'char':
    case 'varchar':
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
    case 'enum':
    case 'set':
      return plain('text');
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return plain('bytea');
    case 'date':
      return plain('date');
    case 'time':
      return plain('time');
    case 'datetime':
      return plain('timestamp');
    case 'timestamp':
      return plain('timestamptz');
    case 'json':
      return plain('jsonb');
    default:
      return null;
  }
}

export const isInteger = (type: PgType | null) => type === 'int2' || type === 'int4' || type === 'int8';
export const isNumber = (type: PgType | null) =>
  isInteger(type) || type === 'numeric' || type === 'float4' || type === 'float8';
