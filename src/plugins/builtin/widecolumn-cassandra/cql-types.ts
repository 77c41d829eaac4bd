// CQL column types as system_schema writes them, and the PostgreSQL type each is shown as.
export interface CqlType {
  /** Lower-case: `int`, `text`, `list`, `map`, `tuple`, ...; a user-defined type keeps its own name. */
  readonly name: string;
  /** Element types of list, set, map, tuple and vector (frozen<> is unwrapped). */
  readonly args: readonly CqlType[];
}

/** PostgreSQL type OIDs the plugin reports. */
export const oids = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  float4: 700,
  float8: 701,
  inet: 869,
  date: 1082,
  time: 1083,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

export type PgType = keyof typeof oids;

const scalarTypes: Record<string, PgType> = {
  ascii: 'text',
  text: 'text',
  varchar: 'text',
  tinyint: 'int2',
  smallint: 'int2',
  int: 'int4',
  bigint: 'int8',
  counter: 'int8',
  varint: 'numeric',
  decimal: 'numeric',
  float: 'float4',
  double: 'float8',
  boolean: 'bool',
  uuid: 'uuid',
  timeuuid: 'uuid',
  timestamp: 'timestamptz',
  date: 'date',
  time: 'time',
  blob: 'bytea',
  inet: 'inet',
  duration: 'text',
};

/** Collections, tuples, vectors and user-defined types are shown as jsonb. */
export function pgTypeOf(type: CqlType): PgType {
  return scalarTypes[type.name] ?? 'jsonb';
}

export const isCollection = (type: CqlType) => pgTypeOf(type) === 'jsonb';

/** Parses `frozen<map<text, list<int>>>`, `tuple<int, text>`, `vector<float, 3>`, `"MyType"`, `int`. */
export function parseCqlType(text: string): CqlType {
  let at = 0;
  const skipSpace = () => {
    while (text[at] === ' ') at++;
  };
  const parse = (): CqlType => {
    skipSpace();
    let name: string;
    if (text[at] === '"') {
      const end = text.indexOf('"', at + 1);
      name = text.slice(at + 1, end);
      at = end + 1;
    } else {
      const start = at;
      while (at < text.length && !'<>, '.includes(text[at])) at++;
      name = text.slice(start, at).toLowerCase();
    }
    skipSpace();
    const args: CqlType[] = [];
    if (text[at] === '<') {
      at++;
      for (;;) {
        args.push(parse());
        skipSpace();
        if (text[at] === ',') at++;
        else break;
      }
      at++;
    }
    if (name === 'frozen' && args.length === 1) return args[0];
    return { name, args };
  };
  return parse();
}

/** The type as CQL writes it, for messages. */
export function cqlTypeText(type: CqlType): string {
  return type.args.length ? `${type.name}<${type.args.map(cqlTypeText).join(', ')}>` : type.name;
}
