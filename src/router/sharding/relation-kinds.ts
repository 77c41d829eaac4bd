// What a relation of a statement is to the router: a sharded, reference or unsharded table, or a view whose
// rows no one shard holds (a view over a sharded table exists on every shard and reads only that shard's rows).
import type { RelationRef } from './query-scopes.js';
import type { ShardMap, TablePlacement } from './shard-map.js';

/** Catalog facts of a view or materialized view (null for any other relation, or none of that name). */
export interface ViewFacts {
  materialized: boolean;
  /** The tables and materialized views it reads, through other views too (names as in the catalog). */
  reads: string[];
}

/** A relation's view facts by name; undefined when the catalog was not asked about it. */
export type ViewLookup = (relname: string) => ViewFacts | null | undefined;

export type RelationKind =
  | { kind: 'sharded'; placement: TablePlacement }
  | { kind: 'reference' }
  /** `via`: the view it is, and the unsharded tables that view reads. */
  | { kind: 'unsharded'; shard: number; via?: { view: string; tables: string[] } }
  | { kind: 'refused'; message: string; hint?: string };

/** Without a lookup (routing tests with no catalog) every relation is taken for a table. */
export function relationKind(
  ref: Pick<RelationRef, 'relname' | 'table'>,
  map: ShardMap,
  views?: ViewLookup,
): RelationKind {
  const table = map.kindOf(ref.table);
  if (table.kind === 'sharded') return table;
  const facts = views ? views(ref.relname) : null;
  if (facts === undefined) {
    return {
      kind: 'refused',
      message: `cannot tell whether "${ref.relname}" is a view over sharded tables: its catalog facts were not loaded`,
    };
  }
  if (facts === null) return table;
  const what = facts.materialized ? 'materialized view' : 'view';
  const kinds = facts.reads.map((t) => ({ t, kind: map.kindOf(t) }));
  const sharded = kinds.find((k) => k.kind.kind === 'sharded');
  if (sharded) {
    return {
      kind: 'refused',
      message: facts.materialized
        ? `materialized view "${ref.relname}" reads sharded table "${sharded.t}": each shard's copy holds only that shard's rows`
        : `view "${ref.relname}" reads sharded table "${sharded.t}": each shard's view sees only that shard's rows`,
      hint: `query "${sharded.t}" in the statement itself, which the proxy routes by its key or gathers from every shard`,
    };
  }
  const unsharded = kinds.filter((k) => k.kind.kind === 'unsharded').map((k) => k.t);
  if (table.kind === 'reference') {
    if (unsharded.length === 0) return table;
    return {
      kind: 'refused',
      message: `reference ${what} "${ref.relname}" reads unsharded table "${unsharded[0]}", which only shard ${map.defaultShard} holds`,
      hint: `add "${unsharded[0]}" to sharding.reference too`,
    };
  }
  // Over reference tables alone, a view reads the same rows on every shard: it is one more reference table.
  if (unsharded.length === 0) return { kind: 'reference' };
  return { ...table, via: { view: ref.relname, tables: unsharded } };
}
