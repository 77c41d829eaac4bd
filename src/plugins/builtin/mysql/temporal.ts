// Date and time arithmetic as PostgreSQL does it (UTC sessions): ± interval literals, date ± days, date - date, date_trunc, extract.
import { bodyOf, namesOf, type Node } from './ast.js';
import { unsupported } from './errors.js';
import { join, type Frag } from './fragments.js';
import { isInteger, type PgType } from './pg-types.js';
import { stringConst, typeOfFrag } from './scope.js';

/** An interval as PostgreSQL keeps it: months, days and microseconds, added in that order. */
export interface Interval {
  readonly months: number;
  readonly days: number;
  readonly micros: number;
}

const units: Record<string, { field: keyof Interval; times: number }> = {};
const addUnit = (names: string[], field: keyof Interval, times: number) =>
  names.forEach((name) => (units[name] = { field, times }));
addUnit(['year', 'years', 'yr', 'yrs', 'y'], 'months', 12);
addUnit(['month', 'months', 'mon', 'mons'], 'months', 1);
addUnit(['week', 'weeks', 'w'], 'days', 7);
addUnit(['day', 'days', 'd'], 'days', 1);
addUnit(['hour', 'hours', 'hr', 'hrs', 'h'], 'micros', 3_600_000_000);
addUnit(['minute', 'minutes', 'min', 'mins', 'm'], 'micros', 60_000_000);
addUnit(['second', 'seconds', 'sec', 'secs', 's'], 'micros', 1_000_000);
addUnit(['millisecond', 'milliseconds', 'ms', 'msec', 'msecs'], 'micros', 1000);
addUnit(['microsecond', 'microseconds', 'us', 'usec', 'usecs'], 'micros', 1);

/** `N unit` pairs and an `[-]HH:MM[:SS[.f]]` part, with `ago`; whole numbers except for seconds and smaller. */
export function parseInterval(text: string): Interval | undefined {
  const value = { months: 0, days: 0, micros: 0 };
  const tokens = text.trim().toLowerCase().replace(/^@\s*/, '').split(/\s+/);
  const ago = tokens[tokens.length - 1] === 'ago' ? tokens.pop() !== undefined : false;
  for (let i = 0; i < tokens.length; i++) {
    const clock = /^([+-])?(\d+):(\d{2})(?::(\d{2}(?:\.\d{1,6})?))?$/.exec(tokens[i]);
    if (clock) {
      const micros =
        (Number(clock[2]) * 3600 + Number(clock[3]) * 60) * 1_000_000 +
        Math.round(Number(clock[4] ?? 0) * 1e6);
      value.micros += clock[1] === '-' ? -micros : micros;
      continue;
    }
    const unit = units[tokens[i + 1] ?? ''];
    if (!unit || !/^[+-]?\d+(\.\d+)?$/.test(tokens[i])) return undefined;
    const amount = Number(tokens[i]) * unit.times;
    // PostgreSQL spreads a fraction of a month or day over the smaller units; not done here.
    if (!Number.isInteger(amount)) return undefined;
    value[unit.field] += amount;
    i++;
  }
  const signed = (n: number) => (ago && n !== 0 ? -n : n);
  return { months: signed(value.months), days: signed(value.days), micros: signed(value.micros) };
}

/** The interval of an `interval '…'` literal; undefined when the node is not one. */
export function intervalLiteral(node: Node): Interval | undefined {
  const cast = bodyOf(node, 'TypeCast');
  if (!cast || namesOf((cast.typeName as Node).names).pop() !== 'interval') return undefined;
  const text = stringConst(cast.arg as Node);
  const parsed = text === undefined ? undefined : parseInterval(text);
  if (!parsed) throw unsupported('this interval', "write a constant such as interval '1 day 02:00:00'");
  return parsed;
}

const isTemporal = (type: PgType | null) => type === 'date' || type === 'timestamp' || type === 'timestamptz';

/** timestamp ± interval: months, then days, then time, as PostgreSQL adds them; a date becomes a timestamp. */
export function plusInterval(value: Frag, interval: Interval, sign: 1 | -1): Frag {
  let type = typeOfFrag(value);
  if (value.slot) type = value.slot.type ??= 'timestamptz';
  if (!isTemporal(type)) throw unsupported(`${type ?? 'unknown'} ± interval`);
  let out: Frag = type === 'date' ? join('timestamp', 'CAST(', value, ' AS DATETIME(6))') : value;
  const steps: [number, string][] = [
    [interval.months, 'MONTH'],
    [interval.days, 'DAY'],
    [interval.micros, 'MICROSECOND'],
  ];
  for (const [amount, unit] of steps)
    if (amount !== 0) out = join(null, 'DATE_ADD(', out, `, INTERVAL ${sign * amount} ${unit})`);
  return join(type === 'date' ? 'timestamp' : type, out);
}

/** date + integer, date - integer (days) and date - date (days between); other date and time arithmetic refused. */
export function dateArithmetic(op: string, left: Frag, right: Frag): Frag | undefined {
  const lt = typeOfFrag(left);
  const rt = typeOfFrag(right);
  if (!isTemporal(lt) && !isTemporal(rt)) return undefined;
  const days = (date: Frag, count: Frag, minus: boolean) => {
    if (count.slot) count.slot.type ??= 'int4';
    if (!isInteger(typeOfFrag(count))) throw unsupported(`date ${op} ${typeOfFrag(count) ?? 'unknown'}`);
    return join('date', minus ? 'DATE_SUB(' : 'DATE_ADD(', date, ', INTERVAL ', count, ' DAY)');
  };
  if (lt === 'date' && op === '-' && (rt === 'date' || (right.slot && right.slot.type === null))) {
    if (right.slot) right.slot.type = 'date';
    return join('int4', 'DATEDIFF(', left, ', ', right, ')');
  }
  if (lt === 'date' && (op === '+' || op === '-')) return days(left, right, op === '-');
  if (rt === 'date' && op === '+') return days(right, left, false);
  throw unsupported(
    `the operator ${op} on ${lt ?? 'unknown'} and ${rt ?? 'unknown'}`,
    'add or subtract an interval constant, or days to a date',
  );
}

/** A timestamp argument as MySQL DATETIME(6); a date is PostgreSQL's timestamptz at midnight (UTC). */
function temporalArgument(name: string, arg: Frag): { value: Frag; type: PgType } {
  if (arg.slot) arg.slot.type ??= 'timestamptz';
  const type = typeOfFrag(arg);
  if (type === 'date')
    return { value: join('timestamptz', 'CAST(', arg, ' AS DATETIME(6))'), type: 'timestamptz' };
  if (type !== 'timestamp' && type !== 'timestamptz') throw unsupported(`${name}() of ${type ?? 'unknown'}`);
  return { value: arg, type };
}

const truncFormats: Record<string, string> = {
  second: '%Y-%m-%d %H:%i:%s',
  minute: '%Y-%m-%d %H:%i:00',
  hour: '%Y-%m-%d %H:00:00',
  day: '%Y-%m-%d',
  month: '%Y-%m-01',
  year: '%Y-01-01',
};

/** date_trunc('unit', x) for units from second to year. */
export function dateTrunc(unitNode: Node, arg: Frag): Frag {
  const unit = stringConst(unitNode)?.toLowerCase();
  const { value, type } = temporalArgument('date_trunc', arg);
  if (unit && truncFormats[unit])
    return join(type, 'CAST(DATE_FORMAT(', value, `, '${truncFormats[unit]}') AS DATETIME(6))`);
  if (unit === 'week')
    return join(
      type,
      'CAST(DATE_SUB(CAST(',
      value,
      ' AS DATE), INTERVAL WEEKDAY(',
      value,
      ') DAY) AS DATETIME(6))',
    );
  if (unit === 'quarter')
    return join(
      type,
      'CAST(DATE_ADD(MAKEDATE(YEAR(',
      value,
      '), 1), INTERVAL QUARTER(',
      value,
      ') - 1 QUARTER) AS DATETIME(6))',
    );
  throw unsupported(
    `date_trunc() to ${unit ?? 'a unit that is not a constant'}`,
    'truncate to second … year',
  );
}

/** MySQL for each field extract() knows (multiplying by decimal constants: MySQL's / keeps only 4 more digits); `date`: a date has it too. */
const fields: Record<string, { sql: [string, string]; date: boolean }> = {
  year: { sql: ['YEAR(', ')'], date: true },
  quarter: { sql: ['QUARTER(', ')'], date: true },
  month: { sql: ['MONTH(', ')'], date: true },
  day: { sql: ['DAYOFMONTH(', ')'], date: true },
  doy: { sql: ['DAYOFYEAR(', ')'], date: true },
  dow: { sql: ['(DAYOFWEEK(', ') - 1)'], date: true },
  isodow: { sql: ['(WEEKDAY(', ') + 1)'], date: true },
  week: { sql: ['WEEK(', ', 3)'], date: true },
  isoyear: { sql: ['(YEARWEEK(', ', 3) DIV 100)'], date: true },
  hour: { sql: ['HOUR(', ')'], date: false },
  minute: { sql: ['MINUTE(', ')'], date: false },
  second: { sql: ['CAST(SECOND(', ') + MICROSECOND(x) * 0.000001 AS DECIMAL(8, 6))'], date: false },
  milliseconds: {
    sql: ['CAST(SECOND(', ') * 1000 + MICROSECOND(x) * 0.001 AS DECIMAL(11, 3))'],
    date: false,
  },
  microseconds: { sql: ['(SECOND(', ') * 1000000 + MICROSECOND(x))'], date: false },
  epoch: {
    sql: ["CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', ", ') * 0.000001 AS DECIMAL(26, 6))'],
    date: false,
  },
};

/** extract(field FROM x), numeric as in PostgreSQL 14 and later; date_part() the same as float8. */
export function extractField(fieldNode: Node, arg: Frag, asFloat: boolean): Frag {
  const name = stringConst(fieldNode)?.toLowerCase() ?? '';
  const field = fields[name];
  if (arg.slot) arg.slot.type ??= 'timestamptz';
  const type = typeOfFrag(arg);
  if (!field || !(type === 'timestamp' || type === 'timestamptz' || (type === 'date' && field.date)))
    throw unsupported(`extract() of ${name || 'a field that is not a constant'} from ${type ?? 'unknown'}`);
  // Fields that use the value twice name it `x` in their MySQL text.
  const [open, close] = field.sql;
  const [before, after] = close.split('x');
  const parts = after === undefined ? [open, arg, close] : [open, arg, before, arg, after];
  const value = join('numeric', ...parts);
  return asFloat ? join('float8', 'CAST(', value, ' AS DOUBLE)') : value;
}
