// Statements whose shard one parameter decides alone: `WHERE key = $n`, routed without walking the tree again.
//
// The router reads the key from the WHERE clause on every run. For the commonest statement, one sharded
// table restricted by `key = $n` with no other mention of the key, the shard is a function of $n alone;
// this finds such statements once per parsed node, and the fast path then hashes the value directly.
import { findInTree } from '../ast-walk.js';
import { nodeKind, operatorOf, type Node } from './ast-values.js';
import { isKey, type KeyColumn } from './key-restriction.js';
import type { ShardMap, TablePlacement } from './shard-map.js';
import type { HashKeyType } from './pg-hash.js';
import { fromTables, type TableRef } from './table-refs.js';

export interface KeyParamRoute {
  /** The parameter ($n) holding the key. */
  param: number;
  placement: TablePlacement;
  /** The statement writes (UPDATE, DELETE, SELECT … FOR UPDATE). */
  write: boolean;
}

/** A statement's shard decided by one parameter, with the key's hash type from the catalog. */
export interface KeyRoute extends KeyParamRoute {
  keyType: HashKeyType;
}

/** A key route kept with a statement, valid while the catalog facts of that version hold. */
export interface CachedKeyRoute {
  version: number;
  route: KeyRoute | null;
}

/** Something that runs one parsed statement again and again, keeping its key route between runs. */
export interface KeyRouted {
  stmt: Node | null;
  keyRoute?: CachedKeyRoute;
}

const known = new WeakMap<Node, { map: ShardMap; route: KeyParamRoute | null }>();

/** The key parameter of a statement the router would send to the shard of `$n` alone, or null. */
export function keyParamRoute(stmt: Node, map: ShardMap): KeyParamRoute | null {
  const seen = known.get(stmt);
  if (seen && seen.map === map) return seen.route;
  const route = analyse(stmt, map);
  known.set(stmt, { map, route });
  return route;
}

function analyse(stmt: Node, map: ShardMap): KeyParamRoute | null {
  const k = nodeKind(stmt);
  if (!k) return null;
  const [kind, n] = k;
  let fromItems: unknown[];
  let write: boolean;
  if (kind === 'SelectStmt') {
    if ((n.op && n.op !== 'SETOP_NONE') || n.withClause) return null;
    fromItems = (n.fromClause as unknown[]) ?? [];
    write = Boolean(n.lockingClause);
  } else if (kind === 'UpdateStmt' || kind === 'DeleteStmt') {
    const extra = (kind === 'UpdateStmt' ? n.fromClause : n.usingClause) as unknown[] | undefined;
    if ((extra && extra.length > 0) || n.withClause) return null;
    fromItems = [n.relation && { RangeVar: n.relation }];
    write = true;
  } else return null;
  const from = fromTables(stmt, fromItems);
  if (from.top.length !== 1 || from.nested.length > 0 || from.hasSubquery || from.joinQuals.length > 0)
    return null;
  const ref: TableRef = from.top[0];
  const kindOf = map.kindOf(ref.table);
  if (kindOf.kind !== 'sharded') return null;
  const placement = kindOf.placement;
  if (kind === 'UpdateStmt') {
    const sets = (n.targetList as Node[]).map((t) => String((t.ResTarget as Node).name).toLowerCase());
    if (sets.includes(placement.column.toLowerCase())) return null;
  }
  const key: KeyColumn = { column: placement.column, names: [ref.alias], unqualified: true };
  const where = n.whereClause;
  if (!where || keyMentions(where, key) !== 1) return null;
  const param = equalityParam(where, key) ?? andedEqualityParam(where, key);
  return param === null ? null : { param, placement, write };
}

/** How many times the WHERE clause names the key column. */
function keyMentions(where: unknown, key: KeyColumn): number {
  let count = 0;
  findInTree(where, (k, value) => {
    if (k === 'ColumnRef' && isKey({ ColumnRef: value }, key)) count++;
    return false;
  });
  return count;
}

/** `key = $n` (either way round, through casts): n, else null. */
function equalityParam(expr: unknown, key: KeyColumn): number | null {
  const k = nodeKind(expr);
  if (!k || k[0] !== 'A_Expr') return null;
  const n = k[1];
  if (n.kind !== 'AEXPR_OP' || operatorOf(n) !== '=') return null;
  const other = isKey(n.lexpr, key) ? n.rexpr : isKey(n.rexpr, key) ? n.lexpr : undefined;
  return other === undefined ? null : paramNumber(other);
}

/** `… AND key = $n AND …` at the top of the clause. */
function andedEqualityParam(expr: unknown, key: KeyColumn): number | null {
  const k = nodeKind(expr);
  if (!k || k[0] !== 'BoolExpr' || k[1].boolop !== 'AND_EXPR') return null;
  for (const arg of k[1].args as unknown[]) {
    const param = equalityParam(arg, key);
    if (param !== null) return param;
  }
  return null;
}

function paramNumber(expr: unknown): number | null {
  const k = nodeKind(expr);
  if (!k) return null;
  if (k[0] === 'TypeCast') return paramNumber(k[1].arg);
  return k[0] === 'ParamRef' ? (k[1].number as number) : null;
}
