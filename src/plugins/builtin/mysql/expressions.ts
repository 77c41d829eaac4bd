// PostgreSQL expressions (libpg-query nodes) as MySQL expressions with PostgreSQL's meaning, or refused with 0A000.
import { PluginError } from '../../api.js';
import { bodyOf, kindOf, listOf, namesOf, type Node } from './ast.js';
import type { TableColumn, TableInfo } from './catalog.js';
import { undefinedColumn, unsupported } from './errors.js';
import { join, list, quoteName, slotFrag, text, unify, type Frag, type Slot } from './fragments.js';
import { isInteger, isNumber, type PgType } from './pg-types.js';

/** A table in a FROM clause: what it is called there and what MySQL calls it. */
export interface ScopeEntry {
  readonly alias: string;
  readonly table: TableInfo;
  /** ON CONFLICT's `excluded`: its columns are the proposed row, MySQL's VALUES(column). */
  readonly proposed?: boolean;
}

export interface Scope {
  readonly entries: readonly ScopeEntry[];
  readonly parent?: Scope;
  /** The select list's output names and expressions, for ORDER BY / GROUP BY by name or position. */
  readonly outputs?: readonly { name: string; node: Node }[];
}

/** What differs between MariaDB and MySQL in the translation. */
export interface Dialect {
  /** A collation comparing by code point without padding, as PostgreSQL's "C" collation does. */
  binaryCollation(charset: string): string;
}

/** Translates one statement's expressions; nested SELECTs come back through `subquery`. */
export interface ExpressionContext {
  readonly dialect: Dialect;
  subquery(node: Node, scope: Scope): Frag;
}

const typeOfFrag = (f: Frag): PgType | null => (f.slot ? f.slot.type : f.type);

/** Text compared as PostgreSQL's "C" collation does: byte order, case and trailing spaces significant. */
export function collated(f: Frag, dialect: Dialect): Frag {
  if (typeOfFrag(f) !== 'text') return f;
  const nullable = f.nullable;
  if (f.column?.charset)
    return { ...join('text', f, ` COLLATE ${dialect.binaryCollation(f.column.charset)}`), nullable };
  return {
    ...join('text', 'CONVERT(', f, ` USING utf8mb4) COLLATE ${dialect.binaryCollation('utf8mb4')}`),
    nullable,
  };
}

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

/** An expression list: a plain array, or a `List` node as newer parsers give for IN and BETWEEN. */
const itemsOf = (value: unknown): Node[] => listOf(bodyOf(value, 'List')?.items ?? value);

function intConst(node: Node): number | undefined {
  const constant = bodyOf(node, 'A_Const');
  if (!constant || !('ival' in constant)) return undefined;
  return Number((constant.ival as Node).ival ?? 0);
}

export class Expressions {
  constructor(private readonly ctx: ExpressionContext) {}

  /** A column reference resolved in the scope (inner first), as `alias`.`column`. */
  column(node: Node, scope: Scope): Frag {
    const fields = listOf(node.fields);
    if (fields.some((field) => kindOf(field) === 'A_Star')) throw unsupported('* inside an expression');
    const names = namesOf(fields);
    const name = names[names.length - 1];
    const qualifier = names.length >= 2 ? names[names.length - 2] : undefined;
    for (let at: Scope | undefined = scope; at; at = at.parent) {
      const matches = at.entries.flatMap((entry) => {
        if (qualifier !== undefined && entry.alias !== qualifier) return [];
        const column = entry.table.columns.find((c) => c.name === name);
        return column ? [{ entry, column }] : [];
      });
      if (matches.length > 1) throw new PluginError('42702', `column reference "${name}" is ambiguous`);
      if (matches.length === 1) return this.columnFrag(matches[0].entry, matches[0].column);
    }
    throw undefinedColumn(
      qualifier ? `${qualifier}.${name}` : name,
      scope.entries.map((e) => e.table.name).join(', '),
    );
  }

  columnFrag(entry: ScopeEntry, column: TableColumn): Frag {
    if (!column.mapped)
      throw unsupported(
        `column "${column.name}" of MySQL type ${column.columnType}`,
        'leave it out of the statement',
      );
    return {
      parts: [
        entry.proposed
          ? `VALUES(${quoteName(column.name)})`
          : `${quoteName(entry.alias)}.${quoteName(column.name)}`,
      ],
      type: column.mapped.type,
      column,
      nullable: column.nullable,
    };
  }

  constant(node: Node): Frag {
    if (node.isnull) return slotFrag({ kind: 'slot', literal: null, type: null });
    if ('ival' in node)
      return { parts: [String((node.ival as Node).ival ?? 0)], type: 'int4', nullable: false };
    if ('fval' in node) {
      const value = String((node.fval as Node).fval);
      // The parser gives integers too large for int4 as fval: int8 or numeric, as PostgreSQL types them.
      const type: PgType = /^-?\d+$/.test(value)
        ? Math.abs(Number(value)) < 2 ** 63
          ? 'int8'
          : 'numeric'
        : 'numeric';
      return { parts: [value], type, nullable: false };
    }
    if ('boolval' in node)
      return { parts: [(node.boolval as Node).boolval ? 'TRUE' : 'FALSE'], type: 'bool', nullable: false };
    if ('sval' in node)
      return slotFrag({ kind: 'slot', literal: String((node.sval as Node).sval), type: null });
    throw unsupported(`the constant ${JSON.stringify(node)}`);
  }

  expr(node: Node, scope: Scope): Frag {
    const kind = kindOf(node);
    const body = (node as Record<string, Node>)[kind];
    switch (kind) {
      case 'ColumnRef':
        return this.column(body, scope);
      case 'A_Const':
        return this.constant(body);
      case 'ParamRef':
        return slotFrag({ kind: 'slot', param: Number(body.number), type: null });
      case 'TypeCast':
        return this.cast(body, scope);
      case 'A_Expr':
        return this.aExpr(body, scope);
      case 'BoolExpr':
        return this.boolExpr(body, scope);
      case 'NullTest': {
        const arg = this.expr(body.arg as Node, scope);
        return join('bool', '(', arg, body.nulltesttype === 'IS_NULL' ? ' IS NULL)' : ' IS NOT NULL)');
      }
      case 'BooleanTest': {
        const arg = this.expr(body.arg as Node, scope);
        if (arg.slot) arg.slot.type ??= 'bool';
        const tests: Record<string, string> = {
          IS_TRUE: 'IS TRUE',
          IS_NOT_TRUE: 'IS NOT TRUE',
          IS_FALSE: 'IS FALSE',
          IS_NOT_FALSE: 'IS NOT FALSE',
          IS_UNKNOWN: 'IS NULL',
          IS_NOT_UNKNOWN: 'IS NOT NULL',
        };
        return { ...join('bool', '(', arg, ` ${tests[String(body.booltesttype)]})`), nullable: false };
      }
      case 'FuncCall':
        return this.funcCall(body, scope);
      case 'CoalesceExpr': {
        const args = listOf(body.args).map((arg) => this.expr(arg, scope));
        const type = args.map(typeOfFrag).find((t) => t !== null) ?? null;
        for (const arg of args) if (arg.slot) arg.slot.type ??= type;
        return join(type, 'COALESCE(', list(args), ')');
      }
      case 'CaseExpr':
        return this.caseExpr(body, scope);
      case 'SQLValueFunction':
        return this.valueFunction(String(body.op));
      case 'SubLink':
        return this.subLink(body, scope);
      default:
        throw unsupported(`the expression ${kind}`);
    }
  }

  private cast(body: Node, scope: Scope): Frag {
    const { type, typmods } = castType(body.typeName as Node);
    const arg = this.expr(body.arg as Node, scope);
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

  private comparison(op: string, left: Frag, right: Frag): Frag {
    const type = unify(left, right);
    if (type === 'text') return join('bool', '(', collated(left, this.ctx.dialect), ` ${op} `, right, ')');
    return join('bool', '(', left, ` ${op} `, right, ')');
  }

  private aExpr(body: Node, scope: Scope): Frag {
    const kindName = String(body.kind);
    const op = namesOf(body.name).pop() ?? '';
    const side = (key: 'lexpr' | 'rexpr') => this.expr(body[key] as Node, scope);
    switch (kindName) {
      case 'AEXPR_OP': {
        if (!body.lexpr) {
          const arg = side('rexpr');
          if (op === '-' && isNumber(typeOfFrag(arg))) return join(typeOfFrag(arg), '(-', arg, ')');
          if (op === '+') return arg;
          throw unsupported(`the prefix operator ${op}`);
        }
        const left = side('lexpr');
        const right = side('rexpr');
        if (['=', '<>', '!=', '<', '>', '<=', '>='].includes(op))
          return this.comparison(op === '!=' ? '<>' : op, left, right);
        if (['+', '-', '*'].includes(op)) {
          const type = unify(left, right);
          const lt = typeOfFrag(left);
          const rt = typeOfFrag(right);
          if (!isNumber(lt) || !isNumber(rt))
            throw unsupported(`the operator ${op} on ${lt ?? 'unknown'} and ${rt ?? 'unknown'}`);
          const result: PgType =
            lt === rt
              ? lt!
              : lt === 'numeric' || rt === 'numeric'
                ? 'numeric'
                : lt?.startsWith('float') || rt?.startsWith('float')
                  ? 'float8'
                  : 'int8';
          return join(result ?? type, '(', left, ` ${op} `, right, ')');
        }
        if (op === '||') {
          for (const f of [left, right]) {
            if (f.slot) f.slot.type ??= 'text';
            const t = typeOfFrag(f);
            if (t !== 'text' && !isInteger(t) && t !== 'numeric')
              throw unsupported(`|| with a ${t ?? 'unknown'} operand`, 'cast it to text');
          }
          return join('text', 'CONCAT(', left, ', ', right, ')');
        }
        if (op === '/' || op === '%')
          throw unsupported(
            `the operator ${op}`,
            'MySQL answers NULL where PostgreSQL raises division_by_zero, and divides integers differently',
          );
        throw unsupported(`the operator ${op}`);
      }
      case 'AEXPR_LIKE':
      case 'AEXPR_ILIKE': {
        const left = side('lexpr');
        const right = side('rexpr');
        if (right.slot) right.slot.type ??= 'text';
        if (typeOfFrag(left) !== 'text')
          throw unsupported(`LIKE on ${typeOfFrag(left) ?? 'unknown'}`, 'cast to text');
        const not = op.startsWith('!') ? 'NOT ' : '';
        if (kindName === 'AEXPR_LIKE')
          return join('bool', '(', collated(left, this.ctx.dialect), ` ${not}LIKE `, right, ')');
        const lowered = join('text', 'LOWER(', left, ')');
        return join('bool', '(', collated(lowered, this.ctx.dialect), ` ${not}LIKE LOWER(`, right, '))');
      }
      case 'AEXPR_IN': {
        const left = side('lexpr');
        const items = itemsOf(body.rexpr).map((item) => this.expr(item, scope));
        for (const item of items) unify(left, item);
        const lhs = typeOfFrag(left) === 'text' ? collated(left, this.ctx.dialect) : left;
        return join('bool', '(', lhs, op === '=' ? ' IN (' : ' NOT IN (', list(items), '))');
      }
      case 'AEXPR_BETWEEN':
      case 'AEXPR_NOT_BETWEEN': {
        const left = side('lexpr');
        const [low, high] = itemsOf(body.rexpr).map((item) => this.expr(item, scope));
        unify(left, low);
        unify(left, high);
        const lhs = typeOfFrag(left) === 'text' ? collated(left, this.ctx.dialect) : left;
        const not = kindName === 'AEXPR_NOT_BETWEEN' ? 'NOT ' : '';
        return join('bool', '(', lhs, ` ${not}BETWEEN `, low, ' AND ', high, ')');
      }
      case 'AEXPR_DISTINCT':
      case 'AEXPR_NOT_DISTINCT': {
        const left = side('lexpr');
        const right = side('rexpr');
        const type = unify(left, right);
        const lhs = type === 'text' ? collated(left, this.ctx.dialect) : left;
        const same = join('bool', '(', lhs, ' <=> ', right, ')');
        return {
          ...(kindName === 'AEXPR_DISTINCT' ? join('bool', '(NOT ', same, ')') : same),
          nullable: false,
        };
      }
      case 'AEXPR_NULLIF': {
        const left = side('lexpr');
        const right = side('rexpr');
        const type = unify(left, right);
        const lhs = type === 'text' ? collated(left, this.ctx.dialect) : left;
        return join(typeOfFrag(left), 'NULLIF(', lhs, ', ', right, ')');
      }
      default:
        throw unsupported(`the expression ${kindName.replace('AEXPR_', '')}`);
    }
  }

  private boolExpr(body: Node, scope: Scope): Frag {
    const args = listOf(body.args).map((arg) => {
      const f = this.expr(arg, scope);
      if (f.slot) f.slot.type ??= 'bool';
      return f;
    });
    if (body.boolop === 'NOT_EXPR') return join('bool', '(NOT ', args[0], ')');
    return join('bool', '(', list(args, body.boolop === 'AND_EXPR' ? ' AND ' : ' OR '), ')');
  }

  private caseExpr(body: Node, scope: Scope): Frag {
    const subject = body.arg ? this.expr(body.arg as Node, scope) : undefined;
    const whens = listOf(body.args).map((when) => {
      const w = bodyOf(when, 'CaseWhen')!;
      const condition = this.expr(w.expr as Node, scope);
      if (subject) unify(subject, condition);
      else if (condition.slot) condition.slot.type ??= 'bool';
      return { condition, result: this.expr(w.result as Node, scope) };
    });
    const otherwise = body.defresult ? this.expr(body.defresult as Node, scope) : undefined;
    const results = [...whens.map((w) => w.result), ...(otherwise ? [otherwise] : [])];
    const type = results.map(typeOfFrag).find((t) => t !== null) ?? 'text';
    for (const r of results) if (r.slot) r.slot.type ??= type;
    if (subject && typeOfFrag(subject) === 'text')
      throw unsupported('CASE <text> WHEN', 'write CASE WHEN <text> = ... THEN');
    const parts: (string | Frag)[] = ['(CASE'];
    if (subject) parts.push(' ', subject);
    for (const w of whens) parts.push(' WHEN ', w.condition, ' THEN ', w.result);
    if (otherwise) parts.push(' ELSE ', otherwise);
    parts.push(' END)');
    return join(type, ...parts);
  }

  private valueFunction(op: string): Frag {
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

  private funcCall(body: Node, scope: Scope): Frag {
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
    const args = listOf(body.args).map((arg) => this.expr(arg, scope));
    const distinct = body.agg_distinct ? 'DISTINCT ' : '';
    const one = () => {
      if (args.length !== 1) throw unsupported(`${name}() with ${args.length} arguments`);
      return args[0];
    };
    switch (name) {
      case 'count':
        return {
          ...join('int8', `COUNT(${distinct}`, collated(one(), this.ctx.dialect), ')'),
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
        return join(
          typeOfFrag(one()),
          `${name.toUpperCase()}(${distinct}`,
          collated(args[0], this.ctx.dialect),
          ')',
        );
      case 'avg':
        throw unsupported('avg()', 'MySQL rounds averages to another scale; use sum(x) and count(x)');
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
        throw unsupported(
          `the function ${name}()`,
          'call it on PostgreSQL, or compute it in the application',
        );
    }
  }

  private subLink(body: Node, scope: Scope): Frag {
    const sub = this.ctx.subquery(body.subselect as Node, scope);
    switch (body.subLinkType) {
      case 'EXISTS_SUBLINK':
        return { ...join('bool', '(EXISTS (', sub, '))'), nullable: false };
      case 'EXPR_SUBLINK':
        return join(sub.type, '(', sub, ')');
      case 'ANY_SUBLINK': {
        const op = namesOf(body.operName).pop() ?? '=';
        if (op !== '=') throw unsupported(`${op} ANY (subquery)`);
        const left = this.expr(body.testexpr as Node, scope);
        unify(left, sub);
        const lhs = typeOfFrag(left) === 'text' ? collated(left, this.ctx.dialect) : left;
        return join('bool', '(', lhs, ' IN (', sub, '))');
      }
      default:
        throw unsupported(`${String(body.subLinkType).replace('_SUBLINK', '')} subqueries`);
    }
  }
}

export { intConst, typeOfFrag };
export type { Slot };
