// Small readers over libpg-query's JSON parse tree: node kinds, bodies, lists, names, constants.
export type Node = Record<string, unknown>;

export const kindOf = (node: unknown): string => Object.keys(node as Node)[0] ?? '';

export function bodyOf(node: unknown, kind: string): Node | undefined {
  return node && typeof node === 'object' ? ((node as Node)[kind] as Node | undefined) : undefined;
}

export const listOf = (value: unknown): Node[] => (Array.isArray(value) ? (value as Node[]) : []);

/** `String` nodes of a name list, e.g. funcname or typeName.names. */
export const namesOf = (value: unknown): string[] =>
  listOf(value).map((item) => String(bodyOf(item, 'String')?.sval ?? ''));

/** Every RangeVar under a node (FROM items, subqueries, INSERT/UPDATE/DELETE targets). */
export function rangeVars(node: unknown, found: Node[] = []): Node[] {
  if (Array.isArray(node)) node.forEach((item) => rangeVars(item, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'RangeVar' || key === 'relation') found.push(value as Node);
      else rangeVars(value, found);
    }
  }
  return found;
}

/** The highest $n in a statement. */
export function highestParam(node: unknown): number {
  let highest = 0;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      const param = bodyOf(value, 'ParamRef');
      if (param) highest = Math.max(highest, Number(param.number ?? 0));
      else Object.values(value).forEach(visit);
    }
  };
  visit(node);
  return highest;
}
