// Which shards hold the rows that matter of each sharded relation in a statement, and whether its levels
// stay together on a shard: the basis for single-shard routes and for exact scatter-gather.
//
// A relation's rows that matter are those its filter (WHERE, and the join conditions that filter it) lets
// through. Its key restriction (`key = 7`, `key IN (…)`) names their shards. An equality of its key with the
// key of a co-located relation it can see (`o.user_id = u.id`) puts them on that relation's shards too.
import { columnRefOf, type Node, type ParamValues } from './ast-values.js';
import { columnEqualities, keyRestriction, type KeyColumn, type Restriction } from './key-restriction.js';
import type { HashKeyType } from './pg-hash.js';
import { visibleScopes, type RelationRef, type Scope, type StatementScopes } from './query-scopes.js';
import type { TablePlacement } from './shard-map.js';

export interface ShardedRef {
  ref: RelationRef;
  placement: TablePlacement;
}

/** `to` holds only rows whose key equals a row of `from` that matters: `to`'s shards are within `from`'s. */
interface Link {
  to: ShardedRef;
  from: ShardedRef;
}

/** What the shard placement of a statement's sharded relations depends on, apart from parameter values. */
export interface Placement {
  sharded: ShardedRef[];
  links: Link[];
  /** Sharded relations of the statement's own level, in groups whose keys its conditions equate. */
  rootGroups: ShardedRef[][];
  /** Key columns as the statement names them, for key restrictions. */
  keys: Map<ShardedRef, KeyColumn>;
}

/** What the catalog says of a sharded relation's table: its key's hash type and its columns, when known. */
export type TableFactsOf = (p: ShardedRef) => { keyType: HashKeyType; columns: string[] } | undefined;

/** Equal keys meet on one shard: same placement, and the same hash type where both are known. */
function colocated(a: ShardedRef, b: ShardedRef, facts: TableFactsOf): boolean {
  if (!a.placement.colocatedWith(b.placement)) return false;
  const [ta, tb] = [facts(a)?.keyType, facts(b)?.keyType];
  return ta === undefined || tb === undefined || ta === tb;
}

/**
 * Whether no FROM item of `scope` has a column of that name, so that PostgreSQL looks for it further out:
 * known only when every item is a sharded table whose columns the catalog told.
 */
function lacksColumn(
  scope: Scope,
  column: string,
  byRef: Map<RelationRef, ShardedRef>,
  facts: TableFactsOf,
): boolean {
  if (scope.opaque) return false;
  for (const ref of scope.names.values()) {
    const p = ref ? byRef.get(ref) : undefined;
    const columns = p && facts(p)?.columns;
    if (!columns || columns.length === 0 || columns.some((c) => c.toLowerCase() === column)) return false;
  }
  return true;
}

/** The sharded relation whose key a column reference names, as seen from `scope`. */
function keyOwner(
  expr: unknown,
  scope: Scope,
  byRef: Map<RelationRef, ShardedRef>,
  facts: TableFactsOf,
): ShardedRef | undefined {
  const col = columnRefOf(expr);
  if (!col) return undefined;
  const column = col.column.toLowerCase();
  const isKey = (p: ShardedRef | undefined) => p && p.placement.column.toLowerCase() === column;
  if (col.qualifier === undefined) {
    for (const s of visibleScopes(scope)) {
      // An unqualified name is the only relation of its level with that column (else PostgreSQL refuses it).
      if (!s.unqualified) return undefined;
      const owners = s.relations.filter((r) => isKey(byRef.get(r)));
      if (owners.length > 0) return owners.length === 1 ? byRef.get(owners[0]) : undefined;
      if (!lacksColumn(s, column, byRef, facts)) return undefined;
    }
    return undefined;
  }
  const name = col.qualifier.toLowerCase();
  for (const s of visibleScopes(scope)) {
    if (s.names.has(name)) {
      const ref = s.names.get(name);
      const p = ref ? byRef.get(ref) : undefined;
      return isKey(p) ? p : undefined;
    }
    if (s.opaque) return undefined;
  }
  return undefined;
}

export function placementOf(scopes: StatementScopes, sharded: ShardedRef[], facts: TableFactsOf): Placement {
  const byRef = new Map(sharded.map((p) => [p.ref, p]));
  const links: Link[] = [];
  const keys = new Map<ShardedRef, KeyColumn>();
  for (const p of sharded) {
    const scope = p.ref.scope;
    const sameKey = scope.relations.filter((r) => byRef.get(r)?.placement.column === p.placement.column);
    keys.set(p, {
      column: p.placement.column,
      names: [p.ref.alias],
      unqualified: scope.unqualified && sameKey.length === 1,
    });
    for (const [a, b] of p.ref.filter.flatMap(columnEqualities)) {
      const [oa, ob] = [keyOwner(a, scope, byRef, facts), keyOwner(b, scope, byRef, facts)];
      const other = oa === p ? ob : ob === p ? oa : undefined;
      if (other && other !== p && colocated(p, other, facts)) links.push({ to: p, from: other });
    }
  }
  const root = sharded.filter((p) => p.ref.scope === scopes.root);
  const parent = root.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  for (const [a, b] of scopes.root.conditions.flatMap(columnEqualities)) {
    const [oa, ob] = [keyOwner(a, scopes.root, byRef, facts), keyOwner(b, scopes.root, byRef, facts)];
    const [i, j] = [root.indexOf(oa!), root.indexOf(ob!)];
    if (i >= 0 && j >= 0 && colocated(root[i], root[j], facts)) parent[find(i)] = find(j);
  }
  const groups = new Map<number, ShardedRef[]>();
  root.forEach((p, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), p]));
  return { sharded, links, rootGroups: [...groups.values()], keys };
}

/** Shards of each sharded relation's rows that matter; null for every shard. */
export function shardSets(
  placement: Placement,
  shardsFor: (p: ShardedRef, r: Restriction) => number[] | null,
  params: ParamValues,
  fixed?: (p: ShardedRef) => Restriction | undefined,
): Map<ShardedRef, number[] | null> {
  const sets = new Map<ShardedRef, number[] | null>();
  for (const p of placement.sharded) {
    let r = fixed?.(p) ?? restrictionOf(p, placement.keys.get(p)!, params);
    // A NULL-extended row has a NULL key wherever its table's rows are: `key IS NULL` proves nothing then.
    if (r !== 'any' && p.ref.nullable && r.includes(null)) r = 'any';
    sets.set(p, shardsFor(p, r));
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const { to, from } of placement.links) {
      const source = sets.get(from)!;
      const current = sets.get(to)!;
      if (source === null) continue;
      const next = current === null ? source : current.filter((s) => source.includes(s));
      if (current === null || next.length !== current.length) {
        sets.set(to, next);
        changed = true;
      }
    }
  }
  return sets;
}

function restrictionOf(p: ShardedRef, key: KeyColumn, params: ParamValues): Restriction {
  const filter = p.ref.filter;
  if (filter.length === 0) return 'any';
  const expr: Node =
    filter.length === 1 ? (filter[0] as Node) : { BoolExpr: { boolop: 'AND_EXPR', args: filter } };
  return keyRestriction(expr, key, params);
}

/**
 * Sharded relations below the statement's own level whose rows that matter are not tied, by equal co-located
 * keys, to a row of the level above them on the same shard: run on every shard, each shard would see only
 * its own part of them.
 */
export function untiedNested(placement: Placement, root: Scope): ShardedRef[] {
  const tied = new Set(placement.sharded.filter((p) => p.ref.scope === root));
  for (let changed = true; changed;) {
    changed = false;
    for (const { to, from } of placement.links) {
      if (!tied.has(to) && tied.has(from)) {
        tied.add(to);
        changed = true;
      }
    }
  }
  return placement.sharded.filter((p) => !tied.has(p));
}
