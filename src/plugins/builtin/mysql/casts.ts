// PostgreSQL casts as MySQL expressions: only where MySQL holds the same values, else refused.
import { listOf, namesOf, bodyOf, type Node } from './ast.js';
import { unsupported } from './errors.js';
import { join, type Frag } from './fragments.js';
import { isInteger, type PgType } from './pg-types.js';
import { typeOfFrag, type Scope, type Translate } from './scope.js';

const pgTypeNames: Record<string, PgType> = {
  bool: 'bool',
  boolean: 'bool',
  int2: 'int2',
  smallint: 'int2',
  int4: 'int4',
  int: 'int4',
  integer: 'int4',
  int8: 'int8',
  bigint: 'int8',
  numeric: 'numeric',
  decimal: 'numeric',
  float4: 'float4',
  real: 'float4',
  float8: 'float8',
  text: 'text',
  varchar: 'text',
  bpchar: 'text',
  bytea: 'bytea',
  date: 'date',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  jsonb: 'jsonb',
  json: 'jsonb',
};

/** PostgreSQL's name for a type name node, e.g. `pg_catalog.int4` → int4. */
export function castType(typeName: Node): { type: PgType; typmods: number[] } {
  const names = namesOf(typeName.names);
  const name = names[names.length - 1];
  const type = pgTypeNames[name];
  if (!type || listOf(typeName.arrayBounds).length)
    throw unsupported(`the cast to ${names.join('.')}`, 'cast to a scalar type MySQL has');
  const typmods = listOf(typeName.typmods).map((mod) =>
    Number(bodyOf(bodyOf(mod, 'A_Const')?.ival, 'ival') ?? bodyOf(mod, 'A_Const')?.ival ?? 0),
  );
  return { type, typmods };
}

/** A cast to a type MySQL can hold with the same values; a cast placeholder takes the type. */
export function castExpr(t: Translate, body: Node, scope: Scope): Frag {
  const { type, typmods } = castType(body.typeName as Node);
  const arg = t.expr(body.arg as Node, scope);
  if (arg.slot && arg.slot.type === null) {
    arg.slot.type = type;
    const cast = {
      date: 'DATE',
      timestamp: 'DATETIME(6)',
      timestamptz: 'DATETIME(6)',
      time: 'TIME(6)',
    } as Record<string, string>;
    if (type === 'numeric' && typmods.length)
      return join(type, 'CAST(', arg, ` AS DECIMAL(${typmods[0]}, ${typmods[1] ?? 0}))`);
    return cast[type] ? join(type, 'CAST(', arg, ` AS ${cast[type]})`) : { ...arg, type };
  }
  const from = typeOfFrag(arg);
  if (from === type && !typmods.length) return arg;
  const refuse = () =>
    unsupported(`the cast from ${from ?? 'unknown'} to ${type}`, 'cast in the application');
  switch (type) {
    case 'int2':
    case 'int4':
    case 'int8':
      if (isInteger(from)) return { ...arg, type };
      if (from === 'numeric') return join(type, 'CAST(', arg, ' AS SIGNED)');
      throw refuse();
    case 'numeric':
      if (!isInteger(from) && from !== 'numeric') throw refuse();
      if (!typmods.length) return { ...arg, type };
      return join(type, 'CAST(', arg, ` AS DECIMAL(${typmods[0]}, ${typmods[1] ?? 0}))`);
    case 'float8':
      if (isInteger(from) || from === 'numeric' || from === 'float4')
        return join(type, 'CAST(', arg, ' AS DOUBLE)');
      throw refuse();
    case 'text':
      if (isInteger(from) || from === 'numeric' || from === 'date')
        return join(type, 'CAST(', arg, ' AS CHAR)');
      throw refuse();
    case 'date':
      if (from === 'timestamp') return join(type, 'CAST(', arg, ' AS DATE)');
      throw refuse();
    default:
      throw refuse();
  }
}
