// Where a statement on a sharded database runs: one shard, several, every shard, split, or refused (0A000).
import { columnRefOf, constantOf, nodeKind, type Node, type ParamValues } from './ast-values.js';
import { columnEqualities, keyRestriction, type KeyColumn, type Restriction } from './key-restriction.js';
import type { KeyValue } from './key-value.js';
import type { HashKeyType } from './pg-hash.js';
import type { ShardMap, TablePlacement } from './shard-map.js';
import { fromTables, tableRef, type FromTables, type TableRef } from './table-refs.js';

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
}

const unsupported = (message: string, hint?: string): ShardRoute => ({ kind: 'unsupported', message, hint });

/** Routes one parsed statement (`{ SelectStmt: ... }` and the like). */
export function routeStatement(stmt: Node, ctx: RouteContext): ShardRoute {
  const k = nodeKind(stmt);
  if (!k) return { kind: 'single', shard: ctx.map.defaultShard, write: false, reason: 'empty' };
  const [kind, n] = k;
  switch (kind) {
    case 'SelectStmt':
      return routeSelect(n, ctx);
    case 'InsertStmt':
      return routeInsert(n, ctx);
    case 'UpdateStmt':
    case 'DeleteStmt':
      return routeUpdateDelete(kind, n, ctx);
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
    case 'VariableShowStmt':
    case 'ListenStmt':
    case 'NotifyStmt':
    case 'UnlistenStmt':
    case 'DoStmt':
    case 'CallStmt':
    case 'PrepareStmt':
    case 'ExecuteStmt':
    case 'DeallocateStmt':
      return { kind: 'single', shard: ctx.map.defaultShard, write: true, reason: 'default-shard' };
    default:
      return { kind: 'ddl', shards: ctx.map.allShards(), reason: 'ddl-all-shards' };
  }
}

interface Classified {
  sharded: { ref: TableRef; placement: TablePlacement }[];
  unsharded: { ref: TableRef; shard: number }[];
  reference: TableRef[];
}

function classify(refs: TableRef[], map: ShardMap): Classified {
  const out: Classified = { sharded: [], unsharded: [], reference: [] };
  for (const ref of refs) {
    const kind = map.kindOf(ref.table);
    if (kind.kind === 'sharded') out.sharded.push({ ref, placement: kind.placement });
    else if (kind.kind === 'reference') out.reference.push(ref);
    else out.unsharded.push({ ref, shard: kind.shard });
  }
  return out;
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

function keyColumn(ref: TableRef, placement: TablePlacement, refs: TableRef[]): KeyColumn {
  return { column: placement.column, names: [ref.alias], unqualified: refs.length === 1 };
}

/** What routing a SELECT needs that no parameter value changes: its tables, kinds and conditions. */
interface SelectShape {
  map: ShardMap;
  from: FromTables;
  top: Classified;
  nested: Classified;
  where: unknown;
}

/**
 * Shapes by statement node. Parses are cached by text and templates by shape, so the same node comes back
 * for every run of a statement; only its key values differ. Nodes are never changed once parsed.
 */
const selectShapes = new WeakMap<Node, SelectShape>();

function selectShape(n: Node, map: ShardMap): SelectShape {
  const known = selectShapes.get(n);
  if (known && known.map === map) return known;
  const from = fromTables({ SelectStmt: n }, (n.fromClause as unknown[]) ?? []);
  const conditions = [n.whereClause, ...from.joinQuals].filter(Boolean);
  const where =
    conditions.length === 1 ? conditions[0] : { BoolExpr: { boolop: 'AND_EXPR', args: conditions } };
  const shape = { map, from, top: classify(from.top, map), nested: classify(from.nested, map), where };
  selectShapes.set(n, shape);
  return shape;
}

function routeSelect(n: Node, ctx: RouteContext): ShardRoute {
  if (n.op && n.op !== 'SETOP_NONE') return routeSetOperation(n, ctx);
  const { from, top, nested, where } = selectShape(n, ctx.map);
  const shardedAll = [...top.sharded, ...nested.sharded];
  const unshardedAll = [...top.unsharded, ...nested.unsharded];
  const writes = Boolean(n.lockingClause);
  if (shardedAll.length === 0) {
    const shards = new Set(unshardedAll.map((u) => u.shard));
    if (shards.size > 1) return unsupported('the statement reads unsharded tables on different shards');
    const shard = shards.size === 1 ? [...shards][0] : ctx.map.defaultShard;
    const reason =
      unshardedAll.length > 0 ? 'unsharded-table' : top.reference.length > 0 ? 'reference-table' : 'no-table';
    return { kind: 'single', shard, write: writes, reason };
  }
  if (unshardedAll.length > 0) {
    const u = unshardedAll[0].ref.table;
    const s = shardedAll[0].ref.table;
    return unsupported(
      `cannot join sharded table "${s}" with unsharded table "${u}"`,
      `add "${u}" to sharding.reference (copied to every shard) or shard it on a key co-located with "${s}"`,
    );
  }
  const colocation = checkColocated(top.sharded, where);
  if (colocation) return colocation;
  let shards: number[] | null = null;
  for (const t of top.sharded) {
    const r = keyRestriction(where, keyColumn(t.ref, t.placement, from.top), ctx.params);
    const s = shardsFor(r, t.placement, ctx);
    if (s) shards = shards ? shards.filter((x) => s.includes(x)) : s;
  }
  if (shards && shards.length <= 1) {
    return {
      kind: 'single',
      shard: shards[0] ?? ctx.map.defaultShard,
      write: writes,
      reason: shards.length ? 'shard-key' : 'no-matching-shard',
    };
  }
  if (nested.sharded.length > 0 || (from.hasSubquery && top.sharded.length > 0)) {
    const t = (nested.sharded[0] ?? top.sharded[0]).placement;
    return unsupported(
      `subqueries and CTEs over sharded table "${t.table}" that span several shards are not supported`,
      `restrict the query to one shard with ${t.table}.${t.column} = <value>, or use a reference table`,
    );
  }
  if (top.sharded.length === 0) return unsupported('the statement spans shards through a subquery');
  return {
    kind: 'scatter',
    shards: shards ?? ctx.map.allShards(),
    reason: shards ? 'shard-keys' : 'no-shard-key',
  };
}

function routeSetOperation(n: Node, ctx: RouteContext): ShardRoute {
  const left = routeSelect(n.larg as Node, ctx);
  const right = routeSelect(n.rarg as Node, ctx);
  if (left.kind === 'unsupported') return left;
  if (right.kind === 'unsupported') return right;
  if (left.kind === 'single' && right.kind === 'single' && left.shard === right.shard) return left;
  return unsupported(
    'UNION, INTERSECT and EXCEPT across shards are not supported',
    'run each part separately, or restrict every part to the same shard by its key',
  );
}

/** Sharded tables of one query must be co-located and joined on their keys; else a 0A000 route. */
function checkColocated(sharded: Classified['sharded'], where: unknown): ShardRoute | null {
  if (sharded.length < 2) return null;
  const first = sharded[0];
  for (const other of sharded.slice(1)) {
    if (!first.placement.colocatedWith(other.placement)) {
      return unsupported(
        `tables "${first.ref.table}" and "${other.ref.table}" are not co-located (${first.placement.describe()} vs ${other.placement.describe()})`,
        'shard both tables with the same algorithm and shard count, or make one a reference table',
      );
    }
  }
  // Union-find over the tables whose keys the conditions equate.
  const parent = sharded.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const indexOfKey = (expr: unknown): number => {
    const ref = columnRefOf(expr);
    if (!ref) return -1;
    return sharded.findIndex(
      (t) =>
        t.placement.column.toLowerCase() === ref.column.toLowerCase() &&
        (ref.qualifier === undefined || ref.qualifier.toLowerCase() === t.ref.alias),
    );
  };
  for (const [a, b] of columnEqualities(where)) {
    const i = indexOfKey(a);
    const j = indexOfKey(b);
    if (i >= 0 && j >= 0) parent[find(i)] = find(j);
  }
  for (let i = 1; i < sharded.length; i++) {
    if (find(i) !== find(0)) {
      const a = sharded[0];
      const b = sharded[i];
      return unsupported(
        `join of "${a.ref.table}" and "${b.ref.table}" is not on their shard keys`,
        `join on ${a.ref.alias}.${a.placement.column} = ${b.ref.alias}.${b.placement.column}, or make "${b.ref.table}" a reference table`,
      );
    }
  }
  return null;
}

function routeInsert(n: Node, ctx: RouteContext): ShardRoute {
  const ref = tableRef(n.relation as Node);
  const kind = ctx.map.kindOf(ref.table);
  if (kind.kind === 'reference')
    return { kind: 'multi-write', shards: ctx.map.allShards(), count: 'first', reason: 'reference-table' };
  if (kind.kind === 'unsharded')
    return { kind: 'single', shard: kind.shard, write: true, reason: 'unsharded-table' };
  const placement = kind.placement;
  const select = (n.selectStmt as Node | undefined)?.SelectStmt as Node | undefined;
  const rows = select?.valuesLists as Node[] | undefined;
  if (!rows) {
    return unsupported(
      `INSERT into sharded table "${ref.table}" needs a VALUES list`,
      'INSERT ... SELECT across shards is not supported; insert the rows with VALUES',
    );
  }
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
    byShard.set(shard, [...(byShard.get(shard) ?? []), row]);
  }
  if (byShard.size === 1)
    return { kind: 'single', shard: [...byShard.keys()][0], write: true, reason: 'shard-key' };
  const parts = [...byShard.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([shard, shardRows]) => ({
      shard,
      stmt: { InsertStmt: { ...n, selectStmt: { SelectStmt: { ...select, valuesLists: shardRows } } } },
    }));
  return { kind: 'insert-split', parts, reason: 'rows-by-shard-key' };
}

/** What routing an UPDATE or DELETE needs that no parameter value changes. */
interface WriteShape {
  map: ShardMap;
  ref: TableRef;
  from: FromTables;
  all: Classified;
}

const writeShapes = new WeakMap<Node, WriteShape>();

function writeShape(kind: string, n: Node, map: ShardMap): WriteShape {
  const known = writeShapes.get(n);
  if (known && known.map === map) return known;
  const ref = tableRef(n.relation as Node);
  const extra = ((kind === 'UpdateStmt' ? n.fromClause : n.usingClause) as unknown[]) ?? [];
  const from = fromTables({ [kind]: n }, [n.relation && { RangeVar: n.relation }, ...extra]);
  const shape = { map, ref, from, all: classify([...from.top, ...from.nested], map) };
  writeShapes.set(n, shape);
  return shape;
}

function routeUpdateDelete(kind: string, n: Node, ctx: RouteContext): ShardRoute {
  const { ref, from, all } = writeShape(kind, n, ctx.map);
  const target = ctx.map.kindOf(ref.table);
  if (target.kind === 'reference') {
    if (all.sharded.length > 0 || all.unsharded.length > 0) {
      return unsupported(`writes to reference table "${ref.table}" may read only reference tables`);
    }
    return { kind: 'multi-write', shards: ctx.map.allShards(), count: 'first', reason: 'reference-table' };
  }
  if (target.kind === 'unsharded') {
    if (all.sharded.length > 0)
      return unsupported(`write to unsharded table "${ref.table}" reads a sharded table`);
    return { kind: 'single', shard: target.shard, write: true, reason: 'unsharded-table' };
  }
  const placement = target.placement;
  if (kind === 'UpdateStmt') {
    const sets = (n.targetList as Node[]).map((t) => String((t.ResTarget as Node).name).toLowerCase());
    if (sets.includes(placement.column.toLowerCase())) {
      return unsupported(
        `UPDATE of shard key column "${placement.column}" of "${ref.table}" is not supported: it would move rows between shards`,
        'DELETE the row and INSERT it with the new key',
      );
    }
  }
  if (all.unsharded.length > 0) {
    return unsupported(
      `write to sharded table "${ref.table}" reads unsharded table "${all.unsharded[0].ref.table}"`,
      'make it a reference table',
    );
  }
  const r = keyRestriction(n.whereClause, keyColumn({ ...ref }, placement, from.top), ctx.params);
  const shards = shardsFor(r, placement, ctx);
  if (shards && shards.length <= 1) {
    return { kind: 'single', shard: shards[0] ?? ctx.map.defaultShard, write: true, reason: 'shard-key' };
  }
  if (all.sharded.length > 1 || from.hasSubquery) {
    return unsupported(
      `a write to "${ref.table}" that reads other sharded tables or subqueries must target one shard`,
      `add ${ref.table}.${placement.column} = <value> to the WHERE clause`,
    );
  }
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
