// PostgreSQL function calls and value functions with a faithful MySQL twin; others refused.
import { listOf, namesOf, type Node } from './ast.js';
import { unsupported } from './errors.js';
import { join, list, text, type Frag } from './fragments.js';
import { isInteger, isNumber, type PgType } from './pg-types.js';
import { collated, typeOfFrag, type Scope, type Translate } from './scope.js';
import { dateTrunc, extractField } from './temporal.js';

/** CURRENT_TIMESTAMP and its kin. */
export function valueFunction(op: string): Frag {
  // The plugin's MySQL sessions run in UTC, so these are PostgreSQL's values for TimeZone UTC.
  switch (op) {
    case 'SVFOP_CURRENT_TIMESTAMP':
      return text('UTC_TIMESTAMP(6)', 'timestamptz');
    case 'SVFOP_CURRENT_DATE':
      return text('UTC_DATE()', 'date');
    case 'SVFOP_LOCALTIMESTAMP':
      return text('UTC_TIMESTAMP(6)', 'timestamp');
    default:
      throw unsupported(op.replace('SVFOP_', '').toLowerCase());
  }
}

/** A function call with a faithful MySQL twin. */
export function functionCall(t: Translate, body: Node, scope: Scope): Frag {
  const names = namesOf(body.funcname);
  const name = names[names.length - 1];
  if (names.length > 1 && names[0] !== 'pg_catalog') throw unsupported(`the function ${names.join('.')}`);
  if (body.over) throw unsupported('window functions', 'compute them in the application');
  if (body.agg_filter || listOf(body.agg_order).length || body.agg_within_group)
    throw unsupported(`${name}() with FILTER, WITHIN GROUP or ORDER BY`);
  if (body.agg_star) {
    if (name !== 'count') throw unsupported(`${name}(*)`);
    return { ...text('COUNT(*)', 'int8'), nullable: false };
  }
  const args = listOf(body.args).map((arg) => t.expr(arg, scope));
  const distinct = body.agg_distinct ? 'DISTINCT ' : '';
  const one = () => {
    if (args.length !== 1) throw unsupported(`${name}() with ${args.length} arguments`);
    return args[0];
  };
  switch (name) {
    case 'count':
      return {
        ...join('int8', `COUNT(${distinct}`, collated(one(), t.dialect), ')'),
        nullable: false,
      };
    case 'sum': {
      const t = typeOfFrag(one());
      if (!isNumber(t)) throw unsupported(`sum() of ${t ?? 'unknown'}`);
      const type: PgType =
        t === 'int2' || t === 'int4' ? 'int8' : t === 'int8' ? 'numeric' : t === 'float4' ? 'float4' : t!;
      return join(type, `SUM(${distinct}`, args[0], ')');
    }
    case 'min':
    case 'max':
      return join(typeOfFrag(one()), `${name.toUpperCase()}(${distinct}`, collated(args[0], t.dialect), ')');
    case 'avg': {
      const type = typeOfFrag(one());
      if (type === 'float4' || type === 'float8') return join('float8', `AVG(${distinct}`, args[0], ')');
      // Integers and numeric: the select list asks MySQL for sum and count and divides as PostgreSQL (average.ts).
      throw unsupported(
        'avg() of integers or numeric inside an expression',
        'select avg(x) as a column of its own',
      );
    }
    case 'date_trunc':
      if (args.length !== 2) throw unsupported(`date_trunc() with ${args.length} arguments`);
      return dateTrunc(listOf(body.args)[0], args[1]);
    case 'extract':
    case 'date_part':
      if (args.length !== 2) throw unsupported(`${name}() with ${args.length} arguments`);
      return extractField(listOf(body.args)[0], args[1], name === 'date_part');
    case 'lower':
    case 'upper':
      if (one().slot) args[0].slot!.type ??= 'text';
      return join('text', `${name.toUpperCase()}(`, args[0], ')');
    case 'length':
    case 'char_length':
    case 'character_length':
      if (one().slot) args[0].slot!.type ??= 'text';
      return join('int4', 'CHAR_LENGTH(', args[0], ')');
    case 'abs':
      if (!isNumber(typeOfFrag(one()))) throw unsupported('abs() of a non-number');
      return join(typeOfFrag(args[0]), 'ABS(', args[0], ')');
    case 'concat':
      for (const arg of args) {
        if (arg.slot) arg.slot.type ??= 'text';
        const t = typeOfFrag(arg);
        if (t !== 'text' && !isInteger(t) && t !== 'numeric')
          throw unsupported(`concat() of ${t ?? 'unknown'}`);
      }
      // PostgreSQL's concat() skips NULLs, as CONCAT_WS does and CONCAT does not.
      return { ...join('text', "CONCAT_WS('', ", list(args), ')'), nullable: false };
    case 'now':
    case 'transaction_timestamp':
    case 'statement_timestamp':
      if (args.length) throw unsupported(`${name}() with arguments`);
      return text('UTC_TIMESTAMP(6)', 'timestamptz');
    default:
      throw unsupported(`the function ${name}()`, 'call it on PostgreSQL, or compute it in the application');
  }
}
