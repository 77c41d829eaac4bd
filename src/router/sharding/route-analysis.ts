// What routing a statement learns once per parsed node (its scopes, sharded relations and their placement),
// and the shards each sharded relation's rows lie on for one run's key values.
import type { Node } from './ast-values.js';
import type { Restriction } from './key-restriction.js';
import type { KeyValue } from './key-value.js';
import type { HashKeyType } from './pg-hash.js';
import { statementScopes, type RelationRef, type StatementScopes } from './query-scopes.js';
import { relationKind, type RelationKind } from './relation-kinds.js';
import { placementOf, shardSets, type Placement, type ShardedRef } from './relation-shards.js';
import type { ShardMap, TablePlacement } from './shard-map.js';
import { unsupported, type RouteContext, type ShardRoute, type TableMeta } from './route-types.js';

/** The relations of a statement by what they are to the router. */
export interface Kinds {
  sharded: ShardedRef[];
  unsharded: { ref: RelationRef; kind: Extract<RelationKind, { kind: 'unsharded' }> }[];
  reference: RelationRef[];
}

/** What routing a statement needs that no parameter value changes. */
export interface Analysis {
  map: ShardMap;
  scopes: StatementScopes;
  /** The relations the map shards (the others' view facts are looked at per route: the catalog changes). */
  sharded: ShardedRef[];
  /** Derived from the catalog facts in `facts` (key types, columns): derived again when those change. */
  placement?: { facts: (TableMeta | undefined)[]; value: Placement };
}

/**
 * Analyses by statement node. Parses are cached by text and templates by shape, so the same node comes back
 * for every run of a statement; only its key values differ. Nodes are never changed once parsed.
 */
const analyses = new WeakMap<Node, Analysis>();

export function analysisOf(stmt: Node, map: ShardMap): Analysis {
  const known = analyses.get(stmt);
  if (known && known.map === map) return known;
  const scopes = statementScopes(stmt);
  const sharded: ShardedRef[] = [];
  for (const ref of scopes.relations) {
    const kind = map.kindOf(ref.table);
    if (kind.kind === 'sharded') sharded.push({ ref, placement: kind.placement });
  }
  const a: Analysis = { map, scopes, sharded };
  analyses.set(stmt, a);
  return a;
}

/** The kinds of every relation, or the refusal of one (a view over a sharded table, say). */
export function kindsOf(a: Analysis, ctx: RouteContext): Kinds | ShardRoute {
  const out: Kinds = { sharded: a.sharded, unsharded: [], reference: [] };
  for (const ref of a.scopes.relations) {
    if (a.sharded.some((p) => p.ref === ref)) continue;
    const kind = relationKind(ref, ctx.map, ctx.views);
    if (kind.kind === 'refused') return unsupported(kind.message, kind.hint);
    if (kind.kind === 'reference') out.reference.push(ref);
    else if (kind.kind === 'unsharded') out.unsharded.push({ ref, kind });
  }
  // A write inside a statement writes one shard's copy only, or each shard's from rows that differ.
  const refWrite = out.reference.find((r) => r.role !== 'read' && r.scope !== a.scopes.root);
  if (refWrite) {
    return unsupported(
      `a write to reference table "${refWrite.table}" inside another statement is not supported`,
      'write the reference table in a statement of its own',
    );
  }
  return out;
}

export function placementFor(a: Analysis, ctx: RouteContext): Placement {
  const facts = a.sharded.map((p) => ctx.meta(p.placement.table));
  const known = a.placement;
  if (known && known.facts.every((f, i) => f === facts[i])) return known.value;
  const value = placementOf(a.scopes, a.sharded, (p) => ctx.meta(p.placement.table));
  a.placement = { facts, value };
  return value;
}

/** Shards a key restriction allows, or null for every shard. */
function shardsFor(r: Restriction, placement: TablePlacement, ctx: RouteContext): number[] | null {
  if (r === 'any') return null;
  const type = ctx.meta(placement.table)?.keyType ?? guessType(r);
  const shards = new Set<number>();
  for (const v of r) {
    const s = safeShardOf(placement, v, type);
    if (s === undefined) return null;
    if (s !== null) shards.add(s);
  }
  return [...shards].sort((a, b) => a - b);
}

/** The shard of a key; undefined for a value the proxy cannot read as the key's type (see key-hash-input.ts). */
export function safeShardOf(
  placement: TablePlacement,
  v: KeyValue | null,
  type: HashKeyType,
): number | null | undefined {
  try {
    return placement.shardOf(v, type);
  } catch {
    // A value PostgreSQL will refuse for the key's type, or one it reads by session settings: in a WHERE
    // clause every shard may answer for its own rows.
    return undefined;
  }
}

/** Without catalog facts (routing tests), integer literals hash as int and everything else as text. */
export function guessType(values: (KeyValue | null)[]): HashKeyType {
  return values.every((v) => v === null || typeof v === 'bigint') ? 'int' : 'text';
}

/** The shards of each sharded relation's rows that matter; `fixed` gives some relations their keys outright. */
export function setsOf(
  a: Analysis,
  ctx: RouteContext,
  fixed?: (p: ShardedRef) => Restriction | undefined,
): Map<ShardedRef, number[] | null> {
  return shardSets(placementFor(a, ctx), (p, r) => shardsFor(r, p.placement, ctx), ctx.params, fixed);
}

/**
 * The one shard every sharded relation's rows that matter lie on, when there is one: each restricted by its
 * own key, or by an equality with a co-located key so restricted. -1 when no row matches anywhere.
 */
export function oneShard(sets: Map<ShardedRef, number[] | null>): number | null {
  const all = new Set<number>();
  for (const s of sets.values()) {
    if (s === null) return null;
    for (const x of s) all.add(x);
  }
  if (all.size > 1) return null;
  return all.size === 1 ? [...all][0] : -1;
}
