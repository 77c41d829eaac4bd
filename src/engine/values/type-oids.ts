// PostgreSQL type OIDs the engine compares, sums and formats.
export const Oid = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  uuid: 2950,
} as const;

export const integerTypes: ReadonlySet<number> = new Set([Oid.int2, Oid.int4, Oid.int8, Oid.oid]);
export const floatTypes: ReadonlySet<number> = new Set([Oid.float4, Oid.float8]);
