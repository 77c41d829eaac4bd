// The plan of UPDATE … FROM / DELETE … USING sharded tables not co-located with the target: the coordinator
// reads each joined table's rows that can meet a target row (as arrays, one statement, one snapshot); the
// shards run the write with `unnest` of those arrays in the joined tables' places.
import type { CoordinatorAccess } from '../engine/operators/coordinator-read.js';
import { CoordinatorRead } from '../engine/operators/coordinator-read.js';
import { relnamesOf } from '../engine/operators/coordinator.js';
import { JoinWrite, type JoinedValues } from '../engine/operators/join-write.js';
import { typeNameOf } from '../engine/operators/subquery-write.js';
import type { StatementPlan } from '../engine/types.js';
import { nodeKind, type Node, type ParamValues } from '../router/sharding/ast-values.js';
import { joinedList } from '../router/sharding/route-join-write.js';
import type { JoinedTable, WriteWithJoin } from '../router/sharding/write-from-read.js';
import { inlineParams, toSql } from './sql-text.js';

const name = (s: string) => ({ String: { sval: s } });
const select = (fields: Node): Node => ({
  SelectStmt: { ...fields, limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' },
});

/**
 * `SELECT j.a AS c1, … FROM joined j WHERE EXISTS (SELECT FROM target, other items WHERE filter)`: the rows of
 * one joined table that may meet a target row (the filter keeps a superset of those that do).
 */
function rowsOf(t: JoinedTable, target: Node, list: Node[], filter: unknown): Node {
  const targetList = t.columns.map((c, i) => ({
    ResTarget: { name: `c${i + 1}`, val: { ColumnRef: { fields: [name(t.qualifier), name(c)] } } },
  }));
  const others = list.filter((_, i) => i !== t.index);
  const exists = select({ fromClause: [{ RangeVar: target }, ...others], whereClause: filter });
  return select({
    targetList,
    fromClause: [list[t.index]],
    whereClause: { SubLink: { subLinkType: 'EXISTS_SUBLINK', subselect: exists } },
  });
}

/**
 * The joined table's place in the shards' write: `(SELECT u.c1::type, … FROM ROWS FROM (pg_catalog.unnest($1::type[]),
 * …) AS u) AS name(columns)` (the casts keep the columns' lengths, which a function's result drops), or a row
 * exactly when it had rows.
 */
function valuesItem(t: JoinedTable, types: string[], firstParam: number, present: boolean): Node {
  if (t.columns.length === 0) {
    const whereClause = present ? undefined : { A_Const: { isnull: true } };
    return { RangeSubselect: { subquery: select({ whereClause }), alias: { aliasname: t.qualifier } } };
  }
  // The arrays have one length, so row i holds each array's i-th value.
  const functions = types.map((type, i) => {
    const arg = {
      TypeCast: { arg: { ParamRef: { number: firstParam + i } }, typeName: typeNameOf(`${type}[]`) },
    };
    const call = {
      FuncCall: {
        funcname: [name('pg_catalog'), name('unnest')],
        args: [arg],
        funcformat: 'COERCE_EXPLICIT_CALL',
      },
    };
    return { List: { items: [call, {}] } };
  });
  const u = types.map((_, i) => `u${i + 1}`);
  const targetList = types.map((type, i) => ({
    ResTarget: {
      val: {
        TypeCast: { arg: { ColumnRef: { fields: [name('u'), name(u[i])] } }, typeName: typeNameOf(type) },
      },
    },
  }));
  const rows = {
    RangeFunction: { is_rowsfrom: true, functions, alias: { aliasname: 'u', colnames: u.map(name) } },
  };
  const alias = { aliasname: t.qualifier, colnames: t.columns.map(name) };
  return { RangeSubselect: { subquery: select({ targetList, fromClause: [rows] }), alias } };
}

export function planJoinWrite(
  w: WriteWithJoin,
  access: CoordinatorAccess,
  params: ParamValues,
): StatementPlan {
  const stmt = inlineParams(w.stmt, params);
  const [kind, n] = nodeKind(stmt)!;
  const list = joinedList(kind, n);
  const filter = inlineParams(w.filter, params);
  const rows = w.items.map((t) => rowsOf(t, n.relation as Node, list, filter));
  const parts = w.items.map((t, i) => {
    const arrays = t.columns.map((_, c) => `, array_agg(s.c${c + 1})`).join('');
    return `(SELECT count(*)${arrays} FROM (${toSql(rows[i])}) AS s) AS q${i}`;
  });
  const joined: JoinedValues = {
    rowsSql: `SELECT * FROM ${rows.map((r, i) => `(${toSql(r)}) AS q${i}`).join(', ')}`,
    valuesSql: `SELECT * FROM ${parts.join(', ')}`,
    widths: w.items.map((t) => t.columns.length),
  };
  const key = kind === 'UpdateStmt' ? 'fromClause' : 'usingClause';
  /** The shards' write for the joined columns' types (per table) and whether each table had rows. */
  const sqlOf = (types: string[][], present: boolean[]): string => {
    let param = 1;
    const replaced = list.map((item, i) => {
      const at = w.items.findIndex((t) => t.index === i);
      if (at < 0) return item;
      const first = param;
      param += w.items[at].columns.length;
      return valuesItem(w.items[at], types[at], first, present[at]);
    });
    return toSql({ [kind]: { ...n, [key]: replaced } });
  };
  const read = new CoordinatorRead(access, joined.valuesSql, relnamesOf(rows));
  return new JoinWrite(read, w.table, w.shards, joined, sqlOf);
}
