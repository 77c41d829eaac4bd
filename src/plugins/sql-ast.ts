// Small readers for libpg-query's JSON AST, shared by the plugins that translate SQL (documents, widecolumn).

export type Node = Record<string, unknown>;

/** The node kind, such as "ColumnRef"; libpg-query wraps every node as `{ Kind: {...} }`. */
export function kindOf(node: unknown): string {
  return node && typeof node === 'object' ? (Object.keys(node)[0] ?? '') : '';
}

/** The fields of a node of the given kind, or undefined when it is another kind. */
export function bodyOf(node: unknown, kind: string): Node | undefined {
  if (kindOf(node) !== kind) return undefined;
  return (node as Record<string, Node>)[kind];
}

export function listOf(value: unknown): Node[] {
  return Array.isArray(value) ? (value as Node[]) : [];
}

/** `String` nodes in a name list, e.g. an operator or function name: `["pg_catalog", "int4"]`. */
export function names(list: unknown): string[] {
  return listOf(list).map((item) => String(bodyOf(item, 'String')?.sval ?? ''));
}
