// The plan of a write whose rows or WHERE values need a read across shards: a coordinator read feeding the
// proxy's own distributed write (the coordinator only reads; the shards' writes keep two-phase commit).
import { CoordinatorRead, type CoordinatorAccess } from '../engine/operators/coordinator-read.js';
import { relnamesOf } from '../engine/operators/coordinator.js';
import { InsertFromRead } from '../engine/operators/insert-from-read.js';
import { SubqueryWrite, valueExpression } from '../engine/operators/subquery-write.js';
import type { StatementPlan } from '../engine/types.js';
import type { Node, ParamValues } from '../router/sharding/ast-values.js';
import type {
  InsertFromSelect,
  WriteFromRead,
  WriteWithSubqueries,
} from '../router/sharding/write-from-read.js';
import { planJoinWrite } from './plan-join-write.js';
import { inlineParams, toSql } from './sql-text.js';

export function planWriteFromRead(
  write: WriteFromRead,
  access: CoordinatorAccess,
  shards: number[],
  params: ParamValues,
): StatementPlan {
  switch (write.kind) {
    case 'insert-select':
      return insertPlan(write, access, shards, params);
    case 'join-values':
      return planJoinWrite(write, access, params);
    default:
      return subqueryPlan(write, access, params);
  }
}

function insertPlan(
  w: InsertFromSelect,
  access: CoordinatorAccess,
  shards: number[],
  params: ParamValues,
): StatementPlan {
  const select = inlineParams(w.select, params);
  const read = new CoordinatorRead(access, toSql(select), relnamesOf(select));
  const insert = inlineParams(w.insert, params);
  const texts = new Map<number, string>();
  const insertSql = (rows: number, columns: number): string => {
    const key = rows * maxColumns + columns;
    let sql = texts.get(key);
    if (sql === undefined) {
      sql = toSql({ InsertStmt: { ...insert, selectStmt: valuesOf(rows, columns) } });
      if (texts.size < 64) texts.set(key, sql);
    }
    return sql;
  };
  const literals = literalColumns(select);
  return new InsertFromRead(read, w.table, w.placement, w.keyType, w.keyIndex, shards, insertSql, literals);
}

/**
 * The output columns of a plain SELECT that are string literals or NULL (bound parameters included, inlined as
 * literals): PostgreSQL leaves those untyped in INSERT … SELECT and reads them as the target column's type.
 * A set operation, VALUES or `*` resolves or hides them, so none count then.
 */
function literalColumns(select: Node): Set<number> {
  const s = select.SelectStmt as Node | undefined;
  const targets = (s?.targetList as Node[] | undefined) ?? [];
  if (!s || (s.op && s.op !== 'SETOP_NONE') || s.valuesLists) return new Set();
  const values = targets.map((t) => (t.ResTarget as Node | undefined)?.val as Node | undefined);
  if (values.some((v) => (v?.ColumnRef as Node | undefined)?.fields && JSON.stringify(v).includes('A_Star')))
    return new Set();
  const out = new Set<number>();
  values.forEach((v, i) => {
    const c = v?.A_Const as Node | undefined;
    if (c && (c.sval !== undefined || c.isnull)) out.add(i);
  });
  return out;
}

const maxColumns = 1664;

/** `VALUES ($1, $2), ($3, $4)`: rows of parameters in row order (EXPLAIN shows one row of `$1`). */
function valuesOf(rows: number, columns: number): Node {
  const width = Math.max(columns, 1);
  const valuesLists = Array.from({ length: rows }, (_, r) => ({
    List: { items: Array.from({ length: width }, (_, c) => ({ ParamRef: { number: r * width + c + 1 } })) },
  }));
  return { SelectStmt: { valuesLists, limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' } };
}

function subqueryPlan(w: WriteWithSubqueries, access: CoordinatorAccess, params: ParamValues): StatementPlan {
  const parts = w.sublinks.map((sub, i) => {
    const subquery = toSql(inlineParams(sub.subselect as Node, params));
    const counted = sub.subLinkType === 'EXISTS_SUBLINK' || sub.subLinkType === 'EXPR_SUBLINK';
    return {
      value: `${valueExpression(sub, subquery)} AS v${i}`,
      // The type's name without a length: plain `character` (also pg_typeof's text) would mean character(1).
      out: `v${i}::text, format_type(pg_typeof(v${i}), -1), ${counted ? '1' : `cardinality(v${i})`}`,
      relnames: relnamesOf(sub.subselect),
    };
  });
  const sql = `SELECT ${parts.map((p) => p.out).join(', ')} FROM (SELECT ${parts.map((p) => p.value).join(', ')}) AS s`;
  const read = new CoordinatorRead(
    access,
    sql,
    parts.flatMap((p) => p.relnames),
  );
  return new SubqueryWrite(read, w.table, w.stmt, w.sublinks, (stmt) => toSql(inlineParams(stmt, params)));
}
