// The PostgreSQL types a cypher() column definition list may use, and the OID each one is reported with.
import { pluginError } from './errors.js';

/** How a Cypher value becomes the column's text: one converter per kind (see typed-value.ts). */
export type ColumnKind =
  | 'agtype'
  | 'text'
  | 'int2'
  | 'int4'
  | 'int8'
  | 'float4'
  | 'float8'
  | 'numeric'
  | 'bool'
  | 'json'
  | 'date'
  | 'timestamp'
  | 'timestamptz';

export interface ColumnType {
  readonly kind: ColumnKind;
  readonly oid: number;
}

/**
 * agtype has no fixed OID in plain PostgreSQL (AGE creates it per installation), so it is reported as text;
 * clients receive AGE's text form either way.
 */
const agtype: ColumnType = { kind: 'agtype', oid: 25 };

/** Type names as the parser leaves them (`int` becomes `pg_catalog.int4`), plus names a user may write. */
const byName: Record<string, ColumnType> = {
  agtype,
  text: { kind: 'text', oid: 25 },
  varchar: { kind: 'text', oid: 1043 },
  bpchar: { kind: 'text', oid: 1042 },
  name: { kind: 'text', oid: 19 },
  int2: { kind: 'int2', oid: 21 },
  smallint: { kind: 'int2', oid: 21 },
  int4: { kind: 'int4', oid: 23 },
  int: { kind: 'int4', oid: 23 },
  integer: { kind: 'int4', oid: 23 },
  int8: { kind: 'int8', oid: 20 },
  bigint: { kind: 'int8', oid: 20 },
  float4: { kind: 'float4', oid: 700 },
  real: { kind: 'float4', oid: 700 },
  float8: { kind: 'float8', oid: 701 },
  numeric: { kind: 'numeric', oid: 1700 },
  decimal: { kind: 'numeric', oid: 1700 },
  bool: { kind: 'bool', oid: 16 },
  boolean: { kind: 'bool', oid: 16 },
  json: { kind: 'json', oid: 114 },
  jsonb: { kind: 'json', oid: 3802 },
  date: { kind: 'date', oid: 1082 },
  timestamp: { kind: 'timestamp', oid: 1114 },
  timestamptz: { kind: 'timestamptz', oid: 1184 },
};

/** Only these schemas may qualify a type name: anything else is a user type we cannot produce. */
const knownSchemas = new Set(['pg_catalog', 'ag_catalog']);

/** Resolves a column definition's type; arrays and other types are refused rather than guessed. */
export function columnType(names: readonly string[], isArray: boolean, column: string): ColumnType {
  const written = names.join('.');
  const [schema, name] = names.length === 2 ? names : [undefined, names[0]];
  const type = name === undefined ? undefined : byName[name.toLowerCase()];
  if (!type || isArray || names.length > 2 || (schema !== undefined && !knownSchemas.has(schema))) {
    throw pluginError(
      'featureNotSupported',
      `type ${written}${isArray ? '[]' : ''} of column "${column}" is not supported in a cypher() column definition list`,
      'Use agtype (the Apache AGE text form), text, json, jsonb, an integer, float, numeric, boolean, date or timestamp type.',
    );
  }
  return type;
}
