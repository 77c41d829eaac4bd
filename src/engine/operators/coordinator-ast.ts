// AST pieces both coordinator rewrites (semi-join reduction, decorrelation) read statements with.
import type { Node } from '../../router/sharding/ast-values.js';

/** Node kinds a moved filter may hold: no subqueries, functions or parameters. */
export const plainKinds = new Set([
  'ColumnRef',
  'A_Const',
  'A_Expr',
  'BoolExpr',
  'NullTest',
  'BooleanTest',
  'TypeCast',
  'TypeName',
  'String',
  'Integer',
  'Float',
  'Boolean',
  'A_ArrayExpr',
  'List',
]);

/** Every SELECT of a statement (subqueries included) and the names its CTEs define. */
export function collectSelects(node: unknown, ctes: Set<string>, selects: Node[]): void {
  if (Array.isArray(node)) return node.forEach((n) => collectSelects(n, ctes, selects));
  if (node === null || typeof node !== 'object') return;
  const obj = node as Node;
  if (obj.SelectStmt) selects.push(obj.SelectStmt as Node);
  if (obj.CommonTableExpr) ctes.add((obj.CommonTableExpr as Node).ctename as string);
  for (const key in obj) collectSelects(obj[key], ctes, selects);
}

/** The conjuncts of a condition (AND flattened). */
export function andArgs(node: Node | undefined): Node[] {
  if (!node) return [];
  const bool = node.BoolExpr as Node | undefined;
  if (bool?.boolop === 'AND_EXPR') return (bool.args as Node[]).flatMap((a) => andArgs(a));
  return [node];
}

export function andOf(args: Node[]): Node {
  return args.length === 1 ? args[0] : { BoolExpr: { boolop: 'AND_EXPR', args } };
}

/** Two columns compared with `=` mean the same on both sides: one type, default collations. */
export function sameType(
  a: { type: unknown; collation: unknown },
  b: { type: unknown; collation: unknown },
): boolean {
  return a.type === b.type && a.collation === null && b.collation === null;
}

/** Whether an expression holds only plain node kinds, each column reference accepted by `column`. */
export function plainExpression(node: Node, column: (ref: Node) => boolean): boolean {
  let ok = true;
  const visit = (n: unknown): void => {
    if (!ok || n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(visit);
    for (const key in n as Node) {
      const value = (n as Node)[key];
      if (/^[A-Z]/.test(key) && !plainKinds.has(key)) ok = false;
      else if (key === 'ColumnRef') ok = column({ ColumnRef: value });
      else visit(value);
    }
  };
  visit(node);
  return ok;
}
