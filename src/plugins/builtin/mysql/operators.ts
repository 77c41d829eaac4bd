// PostgreSQL operators (A_Expr nodes) as MySQL expressions with PostgreSQL's meaning.
import { namesOf, type Node } from './ast.js';
import { unsupported } from './errors.js';
import { join, list, unify, type Frag } from './fragments.js';
import { isInteger, isNumber, type PgType } from './pg-types.js';
import { collated, itemsOf, typeOfFrag, type Scope, type Translate } from './scope.js';

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
  const left = side('lexpr');
  const right = side('rexpr');
  if (['=', '<>', '!=', '<', '>', '<=', '>='].includes(op))
    return comparison(t, op === '!=' ? '<>' : op, left, right);
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
      const type = typeOfFrag(f);
      if (type !== 'text' && !isInteger(type) && type !== 'numeric')
        throw unsupported(`|| with a ${type ?? 'unknown'} operand`, 'cast it to text');
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
