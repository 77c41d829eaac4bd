// The name PostgreSQL gives a select-list column without an alias (a simplified FigureColname).
import { nodeKind, type Node } from '../router/sharding/ast-values.js';

export function columnName(target: Node): string {
  if (target.name) return String(target.name);
  return figure(target.val) ?? '?column?';
}

function figure(expr: unknown): string | undefined {
  const k = nodeKind(expr);
  if (!k) return undefined;
  const [kind, n] = k;
  switch (kind) {
    case 'ColumnRef': {
      const last = (n.fields as Node[]).at(-1);
      return (last?.String as { sval?: string } | undefined)?.sval;
    }
    case 'FuncCall':
      return ((n.funcname as Node[]).at(-1)?.String as { sval?: string } | undefined)?.sval;
    case 'TypeCast':
      return (
        figure(n.arg) ??
        (((n.typeName as Node).names as Node[]).at(-1)?.String as { sval?: string } | undefined)?.sval
      );
    case 'CaseExpr':
      return 'case';
    case 'CoalesceExpr':
      return 'coalesce';
    case 'A_ArrayExpr':
      return 'array';
    default:
      return undefined;
  }
}
