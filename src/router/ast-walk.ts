// Depth-first search over libpg-query JSON trees, shared by the classifier and the session pinning check.

/**
 * Calls visit(key, value) for every property below node, depth first, and stops as soon as visit
 * returns true. Node kinds appear as keys (`{ FuncCall: {...} }`), so one visitor sees them all.
 */
export function findInTree(node: unknown, visit: (key: string, value: unknown) => boolean): boolean {
  if (Array.isArray(node)) {
    for (const item of node) if (findInTree(item, visit)) return true;
    return false;
  }
  if (node === null || typeof node !== 'object') return false;
  for (const key in node) {
    const value = (node as Record<string, unknown>)[key];
    if (visit(key, value) || findInTree(value, visit)) return true;
  }
  return false;
}

/** The called function's own name, lower-cased: `pg_catalog.NEXTVAL(...)` gives `nextval`. */
export function funcCallName(call: unknown): string | undefined {
  const names = (call as { funcname?: { String?: { sval?: string } }[] } | undefined)?.funcname;
  return names?.at(-1)?.String?.sval?.toLowerCase();
}
