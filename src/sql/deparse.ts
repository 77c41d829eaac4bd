// SQL text of statement trees the proxy rewrote: pgsql-deparser, with its known misprints corrected.
import { Deparser } from 'pgsql-deparser';

type Tree = ConstructorParameters<typeof Deparser>[0];
type IndirectionNode = Parameters<Deparser['A_Indirection']>[0];
type Context = Parameters<Deparser['A_Indirection']>[1];

/** Subscripted or field-selected expressions pgsql-deparser already writes in parentheses. */
const wrappedAlready = new Set([
  'TypeCast',
  'SubLink',
  'A_Expr',
  'FuncCall',
  'A_Indirection',
  'ColumnRef',
  'RowExpr',
]);

class ProxyDeparser extends Deparser {
  /**
   * PostgreSQL's grammar takes a subscript or field selection only after a column, a parameter or an
   * expression in parentheses: pgsql-deparser writes `(ARRAY['a','b'])[i]` as `ARRAY['a','b'][i]`, a
   * syntax error. Every other kind of expression is parenthesized here.
   */
  override A_Indirection(node: IndirectionNode, context: Context): string {
    const arg = node.arg as Tree & object;
    const type = this.getNodeType(arg as never);
    if (type === 'ParamRef' || wrappedAlready.has(type)) return super.A_Indirection(node, context);
    // The subscripts as the deparser writes them, after a parameter that stands in for the argument.
    const rest = super.A_Indirection(
      { ...node, arg: { ParamRef: { number: 1 } } } as IndirectionNode,
      context,
    );
    return `(${this.visit(arg as never, context)})${rest.slice('$1'.length)}`;
  }
}

/** One statement (or expression) as SQL text on one line. */
export function deparseSql(node: unknown): string {
  return new ProxyDeparser(node as Tree, { pretty: false }).deparseQuery();
}
