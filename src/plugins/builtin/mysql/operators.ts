// PostgreSQL operators (A_Expr nodes) as MySQL expressions with PostgreSQL's meaning.
import { namesOf, type Node } from './ast.js';
import { unsupported } from './errors.js';
import { join, list, unify, type Frag } from './fragments.js';
import { isInteger, isNumber, type PgType } from './pg-types.js';
import { collated, itemsOf, typeOfFrag, type Scope, type Translate } from './scope.js';
import { dateArithmetic, intervalLiteral, plusInterval } from './temporal.js';

function comparison(t: Translate, op: string, left: Frag, right: Frag): Frag {
  const type = unify(left, right);
  if (type === 'text') return join('bool', '(', collated(left, t.dialect), ` ${op} `, right, ')');
  return join('bool', '(', left, ` ${op} `, right, ')');
}

/** An operator written between (or before) its operands: comparisons, arithmetic, ||. */
function operator(t: Translate, op: string, body: Node, scope: Scope): Frag {
  const side = (key: 'lexpr' | 'rexpr') => t.expr(body[key] as Node, scope);
  if (!body.lexpr) {
    const arg = side('rexpr');
    if (op === '-' && isNumber(typeOfFrag(arg))) return join(typeOfFrag(arg), '(-', arg, ')');
    if (op === '+') return arg;
    throw unsupported(`the prefix operator ${op}`);
  }
  if (op === '+' || op === '-') {
    const rightInterval = intervalLiteral(body.rexpr as Node);
    if (rightInterval) return plusInterval(side('lexpr'), rightInterval, op === '+' ? 1 : -1);
    const leftInterval = op === '+' ? intervalLiteral(body.lexpr as Node) : undefined;
    if (leftInterval) return plusInterval(side('rexpr'), leftInterval, 1);
  }
  const left = side('lexpr');
  const right = side('rexpr');
  if (['=', '<>', '!=', '<', '>', '<=', '>='].includes(op))
    return comparison(t, op === '!=' ? '<>' : op, left, right);
  if (op === '+' || op === '-') {
    const dated = dateArithmetic(op, left, right);
    if (dated) return dated;
  }
  if (['+', '-', '*', '/', '%'].includes(op)) return arithmetic(op, left, right);
  if (op === '||') {
    for (const f of [left, right]) {
      if (f.slot) f.slot.type ??= 'text';
      const type = typeOfFrag(f);
      if (type !== 'text' && !isInteger(type) && type !== 'numeric')
        throw unsupported(`|| with a ${type ?? 'unknown'} operand`, 'cast it to text');
    }
    return join('text', 'CONCAT(', left, ', ', right, ')');
  }
  throw unsupported(`the operator ${op}`);
}

const integerWidth: Record<string, number> = { int2: 2, int4: 4, int8: 8 };

/** The type PostgreSQL gives two numbers combined by an arithmetic operator. */
function arithmeticType(lt: PgType, rt: PgType): PgType {
  if (lt === rt) return lt;
  if (isInteger(lt) && isInteger(rt)) return integerWidth[lt] > integerWidth[rt] ? lt : rt;
  if (lt.startsWith('float') || rt.startsWith('float')) return 'float8';
  return 'numeric';
}

/**
 * + - * / %: integer division truncates toward zero (MySQL's DIV, as PostgreSQL's int / int); a zero divisor
 * makes MySQL answer NULL with warning 1365, which the handler turns into PostgreSQL's division_by_zero.
 */
function arithmetic(op: string, left: Frag, right: Frag): Frag {
  unify(left, right);
  const lt = typeOfFrag(left);
  const rt = typeOfFrag(right);
  if (!isNumber(lt) || !isNumber(rt))
    throw unsupported(`the operator ${op} on ${lt ?? 'unknown'} and ${rt ?? 'unknown'}`);
  const type = arithmeticType(lt!, rt!);
  if (op === '/' && isInteger(type)) return join(type, '(', left, ' DIV ', right, ')');
  if (op === '/' && type === 'numeric')
    throw unsupported('numeric division', 'PostgreSQL and MySQL round quotients to different scales');
  if (op === '%' && !isInteger(type)) throw unsupported(`% on ${type}`);
  if (op === '%') return join(type, 'MOD(', left, ', ', right, ')');
  return join(type, '(', left, ` ${op} `, right, ')');
}

/** An A_Expr: operators, LIKE, IN, BETWEEN, IS DISTINCT FROM, NULLIF. */
export function operatorExpr(t: Translate, body: Node, scope: Scope): Frag {
  const kindName = String(body.kind);
  const op = namesOf(body.name).pop() ?? '';
  const side = (key: 'lexpr' | 'rexpr') => t.expr(body[key] as Node, scope);
  switch (kindName) {
    case 'AEXPR_OP':
      return operator(t, op, body, scope);
    case 'AEXPR_LIKE':
    case 'AEXPR_ILIKE': {
      const left = side('lexpr');
      const right = side('rexpr');
      if (right.slot) right.slot.type ??= 'text';
      if (typeOfFrag(left) !== 'text')
        throw unsupported(`LIKE on ${typeOfFrag(left) ?? 'unknown'}`, 'cast to text');
      const not = op.startsWith('!') ? 'NOT ' : '';
      if (kindName === 'AEXPR_LIKE')
        return join('bool', '(', collated(left, t.dialect), ` ${not}LIKE `, right, ')');
      const lowered = join('text', 'LOWER(', left, ')');
      return join('bool', '(', collated(lowered, t.dialect), ` ${not}LIKE LOWER(`, right, '))');
    }
    case 'AEXPR_IN': {
      const left = side('lexpr');
      const items = itemsOf(body.rexpr).map((item) => t.expr(item, scope));
      for (const item of items) unify(left, item);
      const lhs = typeOfFrag(left) === 'text' ? collated(left, t.dialect) : left;
      return join('bool', '(', lhs, op === '=' ? ' IN (' : ' NOT IN (', list(items), '))');
    }
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN': {
      const left = side('lexpr');
      const [low, high] = itemsOf(body.rexpr).map((item) => t.expr(item, scope));
      unify(left, low);
      unify(left, high);
      const lhs = typeOfFrag(left) === 'text' ? collated(left, t.dialect) : left;
      const not = kindName === 'AEXPR_NOT_BETWEEN' ? 'NOT ' : '';
      return join('bool', '(', lhs, ` ${not}BETWEEN `, low, ' AND ', high, ')');
    }
    case 'AEXPR_DISTINCT':
    case 'AEXPR_NOT_DISTINCT': {
      const left = side('lexpr');
      const right = side('rexpr');
      const type = unify(left, right);
      const lhs = type === 'text' ? collated(left, t.dialect) : left;
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
      const lhs = type === 'text' ? collated(left, t.dialect) : left;
      return join(typeOfFrag(left), 'NULLIF(', lhs, ', ', right, ')');
    }
    default:
      throw unsupported(`the expression ${kindName.replace('AEXPR_', '')}`);
  }
}
