// PostgreSQL expressions (libpg-query nodes) as MySQL expressions with PostgreSQL's meaning, or refused with 0A000.
import { bodyOf, kindOf, listOf, namesOf, type Node } from './ast.js';
import type { TableColumn } from './catalog.js';
import { castExpr } from './casts.js';
import { pluginError, undefinedColumn, unsupported } from './errors.js';
import { join, list, quoteName, slotFrag, unify, type Frag } from './fragments.js';
import { functionCall, valueFunction } from './functions.js';
import { operatorExpr } from './operators.js';
import type { PgType } from './pg-types.js';
import {
  collated,
  typeOfFrag,
  type Dialect,
  type ExpressionContext,
  type Scope,
  type ScopeEntry,
  type Translate,
} from './scope.js';

export class Expressions implements Translate {
  readonly dialect: Dialect;

  constructor(private readonly ctx: ExpressionContext) {
    this.dialect = ctx.dialect;
  }

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
      if (matches.length > 1) throw pluginError('ambiguousColumn', `column reference "${name}" is ambiguous`);
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
        return castExpr(this, body, scope);
      case 'A_Expr':
        return operatorExpr(this, body, scope);
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
        return functionCall(this, body, scope);
      case 'CoalesceExpr': {
        const args = listOf(body.args).map((arg) => this.expr(arg, scope));
        const type = args.map(typeOfFrag).find((t) => t !== null) ?? null;
        for (const arg of args) if (arg.slot) arg.slot.type ??= type;
        return join(type, 'COALESCE(', list(args), ')');
      }
      case 'CaseExpr':
        return this.caseExpr(body, scope);
      case 'SQLValueFunction':
        return valueFunction(String(body.op));
      case 'SubLink':
        return this.subLink(body, scope);
      default:
        throw unsupported(`the expression ${kind}`);
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
