// The PostgreSQL types documents map to, with their type OIDs, so drivers decode results natively.

export const pgTypeNames = [
  'text',
  'int4',
  'int8',
  'float8',
  'numeric',
  'bool',
  'timestamptz',
  'jsonb',
] as const;

export type PgType = (typeof pgTypeNames)[number];

export const typeOids: Record<PgType, number> = {
  text: 25,
  int4: 23,
  int8: 20,
  float8: 701,
  numeric: 1700,
  bool: 16,
  timestamptz: 1184,
  jsonb: 3802,
};

const aliases: Record<string, PgType> = {
  text: 'text',
  varchar: 'text',
  bpchar: 'text',
  int4: 'int4',
  int: 'int4',
  integer: 'int4',
  int2: 'int4',
  smallint: 'int4',
  int8: 'int8',
  bigint: 'int8',
  float8: 'float8',
  'double precision': 'float8',
  float4: 'float8',
  real: 'float8',
  numeric: 'numeric',
  decimal: 'numeric',
  bool: 'bool',
  boolean: 'bool',
  timestamptz: 'timestamptz',
  timestamp: 'timestamptz',
  jsonb: 'jsonb',
  json: 'jsonb',
};

/** The type a SQL type name (as in a cast) stands for here, or undefined when documents have no such type. */
export function pgTypeNamed(name: string): PgType | undefined {
  return aliases[name.toLowerCase()];
}

/** The type of a parameter whose OID the client gave, or undefined for 0 and types we do not map. */
export function pgTypeOfOid(oid: number): PgType | undefined {
  for (const name of pgTypeNames) if (typeOids[name] === oid) return name;
  if (oid === 21) return 'int4';
  if (oid === 700) return 'float8';
  if (oid === 1043 || oid === 1042) return 'text';
  if (oid === 114) return 'jsonb';
  if (oid === 1114) return 'timestamptz';
  return undefined;
}

export const isNumericType = (type: PgType) =>
  type === 'int4' || type === 'int8' || type === 'float8' || type === 'numeric';
