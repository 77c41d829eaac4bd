// Where a statement on a sharded database runs: one shard, several, every shard, split, or refused (0A000).
import { columnRefOf, constantOf, nodeKind, type Node, type ParamValues } from './ast-values.js';
import { columnEqualities, type Restriction } from './key-restriction.js';
import type { KeyValue } from './key-value.js';
import type { HashKeyType } from './pg-hash.js';
import { statementScopes, type RelationRef, type StatementScopes } from './query-scopes.js';
import { relationKind, type RelationKind, type ViewLookup } from './relation-kinds.js';
import { placementOf, shardSets, untiedNested, type Placement, type ShardedRef } from './relation-shards.js';
import type { ShardMap, TablePlacement } from './shard-map.js';
import { tableRef } from './table-refs.js';

/** What the router knows of a table from the catalog: its key's hash type and its columns in order. */
export interface TableMeta {
  keyType: HashKeyType;
  columns: string[];
}

export type MetaLookup = (table: string) => TableMeta | undefined;

export type ShardRoute =
  /** The whole statement on one shard, as the client sent it. */
  | { kind: 'single'; shard: number; write: boolean; reason: string }
  /** A SELECT over several shards: the planner builds a scatter-gather plan. */
  | { kind: 'scatter'; shards: number[]; reason: string }
  /** The same write on several shards (in one distributed transaction); `sum` adds the row counts. */
  | { kind: 'multi-write'; shards: number[]; count: 'sum' | 'first'; reason: string }
  /** An INSERT whose rows belong to different shards: one INSERT per shard. */
  | { kind: 'insert-split'; parts: { shard: number; stmt: Node }[]; reason: string }
  /** DDL and other utility statements: every shard, failures reported per shard. */
  | { kind: 'ddl'; shards: number[]; reason: string }
  /** COPY FROM STDIN: rows split by key (`keyIndex` >= 0) or copied to every shard of `shards`. */
  | {
      kind: 'copy-in';
      shards: number[];
      keyIndex: number;
      placement?: TablePlacement;
      keyType?: HashKeyType;
      reason: string;
    }
  | { kind: 'unsupported'; message: string; hint?: string };

export interface RouteContext {
  map: ShardMap;
  meta: MetaLookup;
  params: ParamValues;
  /** View facts of relations the map does not shard; without them every such relation is taken for a table. */
  views?: ViewLookup;
}

const unsupported = (message: string, hint?: string): ShardRoute => ({ kind: 'unsupported', message, hint });

/** Routes one parsed statement (`{ SelectStmt: ... }` and the like). */
export function routeStatement(stmt: Node, ctx: RouteContext): ShardRoute {
  const k = nodeKind(stmt);
  if (!k) return { kind: 'single', shard: ctx.map.defaultShard, write: false, reason: 'empty' };
  const [kind, n] = k;
  switch (kind) {
    case 'SelectStmt':
      return routeSelect(stmt, n, ctx);
    case 'InsertStmt':
      return routeInsert(stmt, n, ctx);
    case 'UpdateStmt':
    case 'DeleteStmt':
      return routeUpdateDelete(stmt, kind, n, ctx);
    case 'CopyStmt':
      return routeCopy(n, ctx);
    case 'ExplainStmt': {
      const inner = routeStatement(n.query as Node, ctx);
      if (inner.kind === 'single') return { ...inner, reason: `explain:${inner.reason}` };
      if (inner.kind === 'unsupported') return inner;
      const shards =
        'shards' in inner
          ? inner.shards
          : inner.kind === 'insert-split'
            ? inner.parts.map((p) => p.shard)
            : [0];
      return { kind: 'single', shard: shards[0], write: false, reason: 'explain:first-shard' };
    }
    case 'PrepareStmt':
    case 'DeclareCursorStmt':
    case 'CreateTableAsStmt': {
      const refusal = nestedRefusal(kind, n, ctx);
      if (refusal) return refusal;
      if (kind === 'PrepareStmt')
        return { kind: 'single', shard: ctx.map.defaultShard, write: true, reason: 'default-shard' };
      return { kind: 'ddl', shards: ctx.map.allShards(), reason: 'ddl-all-shards' };
    }
    case 'VariableShowStmt':
    case 'ListenStmt':
    case 'NotifyStmt':
    case 'UnlistenStmt':
    case 'DoStmt':
    case 'CallStmt':
    case 'ExecuteStmt':
    case 'DeallocateStmt':
      return { kind: 'single', shard: ctx.map.defaultShard, write: true, reason: 'default-shard' };
    default:
      return { kind: 'ddl', shards: ctx.map.allShards(), reason: 'ddl-all-shards' };
  }
}

/** The relations of a statement by what they are to the router. */
interface Kinds {
  sharded: ShardedRef[];
  unsharded: { ref: RelationRef; kind: Extract<RelationKind, { kind: 'unsharded' }> }[];
  reference: RelationRef[];
}

/** What routing a statement needs that no parameter value changes. */
interface Analysis {
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

function analysisOf(stmt: Node, map: ShardMap): Analysis {
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
function kindsOf(a: Analysis, ctx: RouteContext): Kinds | ShardRoute {
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

function placementFor(a: Analysis, ctx: RouteContext): Placement {
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

function safeShardOf(
  placement: TablePlacement,
  v: KeyValue | null,
  type: HashKeyType,
): number | null | undefined {
  try {
    return placement.shardOf(v, type);
  } catch {
    // A value PostgreSQL will refuse for the key's type: let every shard say so.
    return undefined;
  }
}

function guessType(values: (KeyValue | null)[]): HashKeyType {
  return values.every((v) => v === null || typeof v === 'bigint') ? 'int' : 'text';
}

/** The shards of each sharded relation's rows that matter; `fixed` gives some relations their keys outright. */
function setsOf(
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
function oneShard(sets: Map<ShardedRef, number[] | null>): number | null {
  const all = new Set<number>();
  for (const s of sets.values()) {
    if (s === null) return null;
    for (const x of s) all.add(x);
  }
  if (all.size > 1) return null;
  return all.size === 1 ? [...all][0] : -1;
}

const restrictHint = (table: string) =>
  `restrict every sharded table of the statement to the same shard by its key, or make "${table}" a reference table`;

/** A sharded table with an unsharded one (which only the default shard holds): no shard has both. */
function mixRefusal(kinds: Kinds): ShardRoute {
  const u = kinds.unsharded[0];
  const s = kinds.sharded[0].ref.table;
  const via = u.kind.via;
  if (via) {
    return unsupported(
      `cannot join sharded table "${s}" with view "${via.view}" over unsharded table "${via.tables[0]}"`,
      `add ${via.tables.map((t) => `"${t}"`).join(', ')} to sharding.reference (copied to every shard)`,
    );
  }
  return unsupported(
    `cannot join sharded table "${s}" with unsharded table "${u.ref.table}"`,
    `add "${u.ref.table}" to sharding.reference (copied to every shard) or shard it on a key co-located with "${s}"`,
  );
}

/**
 * Whether a statement may run on every shard (or those of `shards`) as it is, each shard answering for its
 * own rows: the sharded tables of its own level are co-located and joined on their keys, and every sharded
 * table below it (subqueries, CTEs) is tied to a row of the level above by an equality of co-located keys.
 * Null when it may; else the refusal.
 */
function spreadRefusal(a: Analysis, ctx: RouteContext): ShardRoute | null {
  const placement = placementFor(a, ctx);
  const root = a.scopes.root;
  if (placement.rootGroups.length === 0) {
    const t = a.sharded[0].ref.table;
    return unsupported(
      `subqueries and CTEs over sharded table "${t}" that span several shards are not supported`,
      restrictHint(t),
    );
  }
  if (placement.rootGroups.length > 1) return joinRefusal(a, placement);
  const untied = untiedNested(placement, root);
  if (untied.length > 0) {
    const t = untied[0].ref.table;
    return unsupported(
      `subqueries and CTEs over sharded table "${t}" that span several shards are not supported`,
      restrictHint(t),
    );
  }
  return null;
}

/** Tables of the statement's own level that are not joined on their keys: the refusal, and a hint that cannot mislead. */
function joinRefusal(a: Analysis, placement: Placement): ShardRoute {
  const [first, second] = placement.rootGroups;
  const x = first[0];
  const y = second.find((p) => !p.placement.colocatedWith(x.placement)) ?? second[0];
  if (!x.placement.colocatedWith(y.placement)) {
    return unsupported(
      `tables "${x.ref.table}" and "${y.ref.table}" are not co-located (${x.placement.describe()} vs ${y.placement.describe()})`,
      'shard both tables with the same algorithm and shard count, or make one a reference table',
    );
  }
  const message = `join of "${x.ref.table}" and "${y.ref.table}" is not on their shard keys`;
  // Only the statement's own equalities may shape a hint: the key of one side equated with another column
  // of the other side means sharding that side by that column would co-locate the join as it is written.
  const byRef = new Map(a.sharded.map((p) => [p.ref, p]));
  const ownerOf = (expr: unknown) => {
    const col = columnRefOf(expr);
    if (!col) return undefined;
    const name = col.qualifier?.toLowerCase();
    const ref = name ? a.scopes.root.names.get(name) : undefined;
    return ref ? { p: byRef.get(ref), column: col.column.toLowerCase() } : undefined;
  };
  const inFirst = new Set(first);
  for (const [l, r] of a.scopes.root.conditions.flatMap(columnEqualities)) {
    const [ol, or] = [ownerOf(l), ownerOf(r)];
    if (!ol?.p || !or?.p || inFirst.has(ol.p) === inFirst.has(or.p)) continue;
    for (const [keyed, other] of [
      [ol, or],
      [or, ol],
    ]) {
      const k = keyed.p!;
      const o = other.p!;
      const keyedOnKey = k.placement.column.toLowerCase() === keyed.column;
      const otherOnKey = o.placement.column.toLowerCase() === other.column;
      if (!keyedOnKey || otherOnKey || !k.placement.colocatedWith(o.placement)) continue;
      return unsupported(
        message,
        `the join equates ${k.ref.alias}.${keyed.column} with ${o.ref.alias}.${other.column}: sharding "${o.ref.table}" by "${other.column}" would co-locate them; or make "${o.ref.table}" a reference table`,
      );
    }
  }
  return unsupported(message, restrictHint(y.ref.table));
}

function routeSelect(stmt: Node, n: Node, ctx: RouteContext): ShardRoute {
  const a = analysisOf(stmt, ctx.map);
  const kinds = kindsOf(a, ctx);
  if ('kind' in kinds) return kinds;
  const writes = Boolean(n.lockingClause) || a.scopes.relations.some((r) => r.role !== 'read');
  if (kinds.sharded.length === 0) {
    const shard = kinds.unsharded.length > 0 ? kinds.unsharded[0].kind.shard : ctx.map.defaultShard;
    const reason =
      kinds.unsharded.length > 0
        ? 'unsharded-table'
        : kinds.reference.length > 0
          ? 'reference-table'
          : 'no-table';
    return { kind: 'single', shard, write: writes, reason };
  }
  if (kinds.unsharded.length > 0) return mixRefusal(kinds);
  if (a.scopes.root.into) {
    return unsupported(
      `SELECT INTO over sharded table "${kinds.sharded[0].ref.table}" would store only one shard's rows`,
      'create the table with CREATE TABLE and fill it through the proxy with INSERT … VALUES or COPY',
    );
  }
  const sets = setsOf(a, ctx);
  const shard = oneShard(sets);
  if (shard !== null) {
    return {
      kind: 'single',
      shard: shard < 0 ? ctx.map.defaultShard : shard,
      write: writes,
      reason: shard < 0 ? 'no-matching-shard' : 'shard-key',
    };
  }
  if (a.scopes.root.setOperation) {
    return unsupported(
      'UNION, INTERSECT and EXCEPT across shards are not supported',
      'run each part separately, or restrict every part to the same shard by its key',
    );
  }
  const refusal = spreadRefusal(a, ctx);
  if (refusal) return refusal;
  const shards = new Set<number>();
  let every = false;
  for (const p of placementFor(a, ctx).rootGroups[0]) {
    const s = sets.get(p)!;
    if (s === null) every = true;
    else for (const x of s) shards.add(x);
  }
  if (every) return { kind: 'scatter', shards: ctx.map.allShards(), reason: 'no-shard-key' };
  return { kind: 'scatter', shards: [...shards].sort((x, y) => x - y), reason: 'shard-keys' };
}

/**
 * Statements holding a query that runs elsewhere than the statement's route: a PREPARE (run later by
 * EXECUTE on the default shard), a cursor (declared, then fetched from every shard and answered by one),
 * CREATE TABLE AS and its SELECT (each shard's new table would hold only that shard's rows). None of them may
 * read a sharded table. A materialized view may be created: its reads are refused instead.
 */
function nestedRefusal(kind: string, n: Node, ctx: RouteContext): ShardRoute | null {
  if (kind === 'CreateTableAsStmt' && n.objtype === 'OBJECT_MATVIEW') return null;
  const query = n.query as Node | undefined;
  if (!nodeKind(query)) return null;
  const a = analysisOf(query!, ctx.map);
  const kinds = kindsOf(a, ctx);
  if ('kind' in kinds) return kinds;
  const table = kinds.sharded[0]?.ref.table;
  if (!table) return null;
  if (kind === 'PrepareStmt') {
    return unsupported(
      `PREPARE of a statement on sharded table "${table}" is not supported`,
      'prepare it through the protocol (Parse and Bind, as drivers do): the proxy routes each execution',
    );
  }
  if (kind === 'DeclareCursorStmt') {
    return unsupported(
      `cursors over sharded table "${table}" are not supported`,
      'run the query without a cursor: the proxy gathers its rows from every shard',
    );
  }
  return unsupported(
    `CREATE TABLE AS over sharded table "${table}" would store only each shard's rows on that shard`,
    'create the table, then fill it through the proxy with INSERT … VALUES or COPY',
  );
}

function routeInsert(stmt: Node, n: Node, ctx: RouteContext): ShardRoute {
  const a = analysisOf(stmt, ctx.map);
  const kinds = kindsOf(a, ctx);
  if ('kind' in kinds) return kinds;
  const target = a.scopes.relations.find((r) => r.role === 'insert' && r.scope === a.scopes.root)!;
  const ref = tableRef({ relname: target.relname });
  const others = kinds.sharded.filter((p) => p.ref !== target);
  const kind = relationKind(target, ctx.map, ctx.views);
  if (kind.kind === 'refused') return unsupported(kind.message, kind.hint);
  if (kind.kind === 'reference') {
    if (kinds.sharded.length > 0 || kinds.unsharded.length > 0) {
      return unsupported(`writes to reference table "${ref.table}" may read only reference tables`);
    }
    return { kind: 'multi-write', shards: ctx.map.allShards(), count: 'first', reason: 'reference-table' };
  }
  if (kind.kind === 'unsharded') {
    if (kinds.sharded.length > 0)
      return unsupported(`write to unsharded table "${ref.table}" reads a sharded table`);
    return { kind: 'single', shard: kind.shard, write: true, reason: 'unsharded-table' };
  }
  const placement = kind.placement;
  const select = (n.selectStmt as Node | undefined)?.SelectStmt as Node | undefined;
  const rows = select?.valuesLists as Node[] | undefined;
  if (!rows) {
    return unsupported(
      `INSERT into sharded table "${ref.table}" needs a VALUES list`,
      'INSERT ... SELECT across shards is not supported; insert the rows with VALUES',
    );
  }
  if (kinds.unsharded.length > 0) return mixRefusal(kinds);
  const cols = (n.cols as Node[] | undefined)?.map((c) => String((c.ResTarget as Node).name).toLowerCase());
  const meta = ctx.meta(ref.table);
  const columns = cols ?? meta?.columns;
  const keyIndex = columns?.indexOf(placement.column.toLowerCase()) ?? -1;
  if (!columns)
    return unsupported(`cannot tell the columns of "${ref.table}"`, 'name the columns in the INSERT');
  if (keyIndex < 0) {
    return unsupported(
      `INSERT into sharded table "${ref.table}" must give its shard key "${placement.column}"`,
      'a key generated by a column default would not decide the shard; see README "Sharding" for key generation',
    );
  }
  const type = meta?.keyType;
  const byShard = new Map<number, Node[]>();
  const keys: (KeyValue | null)[] = [];
  for (const row of rows) {
    const items = (row.List as Node).items as unknown[];
    const v = keyIndex >= items.length ? null : constantOf(items[keyIndex], ctx.params);
    if (v === undefined) {
      return unsupported(
        `the shard key ${ref.table}.${placement.column} of an inserted row is not a constant or parameter`,
        'give the key as a literal or a parameter, e.g. from per-shard sequences (see README "Sharding")',
      );
    }
    const shard = safeShardOf(placement, v, type ?? guessType([v]));
    if (shard === null || shard === undefined) {
      return unsupported(
        `no shard holds key ${String(v)} of "${ref.table}"`,
        'extend sharding ranges or lists to cover it',
      );
    }
    keys.push(v);
    byShard.set(shard, [...(byShard.get(shard) ?? []), row]);
  }
  if (others.length > 0) {
    // Subqueries of the INSERT (in its rows, ON CONFLICT, RETURNING, CTEs) run where its rows go.
    const sets = setsOf(a, ctx, (p) => (p.ref === target ? keys : undefined));
    if (byShard.size > 1 || oneShard(sets) === null) {
      const t = others[0].ref.table;
      return unsupported(
        `INSERT into "${ref.table}" reads sharded table "${t}" from rows on other shards`,
        restrictHint(t),
      );
    }
  }
  if (byShard.size === 1)
    return { kind: 'single', shard: [...byShard.keys()][0], write: true, reason: 'shard-key' };
  const parts = [...byShard.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([shard, shardRows]) => ({
      shard,
      stmt: { InsertStmt: { ...n, selectStmt: { SelectStmt: { ...select, valuesLists: shardRows } } } },
    }));
  return { kind: 'insert-split', parts, reason: 'rows-by-shard-key' };
}

function routeUpdateDelete(stmt: Node, kind: string, n: Node, ctx: RouteContext): ShardRoute {
  const a = analysisOf(stmt, ctx.map);
  const kinds = kindsOf(a, ctx);
  if ('kind' in kinds) return kinds;
  const target = a.scopes.relations.find((r) => r.role === 'write' && r.scope === a.scopes.root)!;
  const ref = tableRef({ relname: target.relname });
  const targetKind = relationKind(target, ctx.map, ctx.views);
  if (targetKind.kind === 'refused') return unsupported(targetKind.message, targetKind.hint);
  if (targetKind.kind === 'reference') {
    if (kinds.sharded.length > 0 || kinds.unsharded.length > 0) {
      return unsupported(`writes to reference table "${ref.table}" may read only reference tables`);
    }
    return { kind: 'multi-write', shards: ctx.map.allShards(), count: 'first', reason: 'reference-table' };
  }
  if (targetKind.kind === 'unsharded') {
    if (kinds.sharded.length > 0)
      return unsupported(`write to unsharded table "${ref.table}" reads a sharded table`);
    return { kind: 'single', shard: targetKind.shard, write: true, reason: 'unsharded-table' };
  }
  const placement = targetKind.placement;
  if (kind === 'UpdateStmt') {
    const sets = (n.targetList as Node[]).map((t) => String((t.ResTarget as Node).name).toLowerCase());
    if (sets.includes(placement.column.toLowerCase())) {
      return unsupported(
        `UPDATE of shard key column "${placement.column}" of "${ref.table}" is not supported: it would move rows between shards`,
        'DELETE the row and INSERT it with the new key',
      );
    }
  }
  if (kinds.unsharded.length > 0) {
    return unsupported(
      `write to sharded table "${ref.table}" reads unsharded table "${kinds.unsharded[0].ref.table}"`,
      'make it a reference table',
    );
  }
  const sets = setsOf(a, ctx);
  const shard = oneShard(sets);
  if (shard !== null)
    return {
      kind: 'single',
      shard: shard < 0 ? ctx.map.defaultShard : shard,
      write: true,
      reason: 'shard-key',
    };
  if (spreadRefusal(a, ctx)) {
    return unsupported(
      `a write to "${ref.table}" that reads other sharded tables or subqueries must target one shard`,
      `restrict "${ref.table}" and every sharded table it reads to the same shard by their keys`,
    );
  }
  const shards = sets.get(a.sharded.find((p) => p.ref === target)!)!;
  return {
    kind: 'multi-write',
    shards: shards ?? ctx.map.allShards(),
    count: 'sum',
    reason: shards ? 'shard-keys' : 'no-shard-key',
  };
}

function routeCopy(n: Node, ctx: RouteContext): ShardRoute {
  if (!n.relation) return unsupported('COPY (query) on a sharded database is not supported');
  const ref = tableRef(n.relation as Node);
  const kind = ctx.map.kindOf(ref.table);
  const view = relationKind(
    { relname: String((n.relation as Node).relname), table: ref.table },
    ctx.map,
    ctx.views,
  );
  if (view.kind === 'refused') return unsupported(view.message, view.hint);
  if (kind.kind === 'unsharded')
    return { kind: 'single', shard: kind.shard, write: true, reason: 'unsharded-table' };
  if (!n.is_from) {
    if (kind.kind === 'reference')
      return { kind: 'single', shard: ctx.map.defaultShard, write: false, reason: 'reference-table' };
    return unsupported(
      `COPY TO from sharded table "${ref.table}" is not supported`,
      'use SELECT, which the proxy gathers from every shard',
    );
  }
  if (n.filename)
    return unsupported(
      'COPY FROM a server file on a sharded database is not supported',
      'use COPY FROM STDIN',
    );
  if (kind.kind === 'reference')
    return { kind: 'copy-in', shards: ctx.map.allShards(), keyIndex: -1, reason: 'reference-table' };
  const attlist = (n.attlist as Node[] | undefined)?.map((a) =>
    String((a.String as Node).sval).toLowerCase(),
  );
  const meta = ctx.meta(ref.table);
  const columns = attlist ?? meta?.columns;
  const keyIndex = columns?.indexOf(kind.placement.column.toLowerCase()) ?? -1;
  if (keyIndex < 0)
    return unsupported(
      `COPY into "${ref.table}" must include its shard key column "${kind.placement.column}"`,
    );
  return {
    kind: 'copy-in',
    shards: ctx.map.allShards(),
    keyIndex,
    placement: kind.placement,
    keyType: meta?.keyType ?? 'int',
    reason: 'rows-by-shard-key',
  };
}
