// UPDATE and DELETE on the claimed schema, RETURNING emulated by key within the MySQL transaction.
import { bodyOf, kindOf, listOf, namesOf, type Node } from './ast.js';
import type { TableInfo } from './catalog.js';
import { undefinedColumn, unsupported } from './errors.js';
import { join, list, quoteName, text, type Frag } from './fragments.js';
import type { OutputColumn, Plan } from './plan.js';
import type { Scope } from './scope.js';
import { Queries } from './select.js';

/** RETURNING's expressions, wherever the parser version puts them. */
export const returningOf = (body: Node): Node[] =>
  listOf(
    bodyOf(body.returningClause, 'exprs') ??
      (body.returningClause as Node | undefined)?.exprs ??
      body.returningList,
  );

export class Writes extends Queries {
  /** SET lists; MySQL applies them left to right, so one may not read a column an earlier one set. */
  protected assignments(targets: Node[], info: TableInfo, scope: Scope, alias: string): Frag {
    const assigned = new Set<string>();
    return list(
      targets.map((item) => {
        if (kindOf(item) !== 'ResTarget' || bodyOf(bodyOf(item, 'ResTarget')?.val, 'MultiAssignRef'))
          throw unsupported('SET (a, b) = (...)', 'assign each column on its own');
        const target = bodyOf(item, 'ResTarget')!;
        if (listOf(target.indirection).length) throw unsupported('assigning a part of a column');
        const column = info.columns.find((c) => c.name === target.name);
        if (!column) throw undefinedColumn(String(target.name), `${this.schema}.${info.name}`);
        const val = target.val as Node;
        const read = readColumns(val);
        const clash = [...assigned].find((name) => read.has(name));
        if (clash)
          throw unsupported(
            `SET reading "${clash}" after assigning it`,
            'MySQL would read the new value; use two statements',
          );
        assigned.add(column.name);
        if (kindOf(val) === 'SetToDefault')
          return text(`${quoteName(alias)}.${quoteName(column.name)} = DEFAULT`);
        const f = this.expressions.expr(val, scope);
        if (f.slot) f.slot.type ??= column.mapped?.type ?? null;
        return join(null, `${quoteName(alias)}.${quoteName(column.name)} = `, f);
      }),
    );
  }

  /** RETURNING's select list over the table, then its one-column primary key (which the read-back filters on). */
  protected returningSelect(
    relation: Node,
    alias: string,
    key: string | undefined,
    returning: Node[],
  ): { select: Frag; columns: OutputColumn[] } {
    const keyRef = { ColumnRef: { fields: [{ String: { sval: alias } }, { String: { sval: key } }] } };
    const keyTarget = key ? [{ ResTarget: { val: keyRef } }] : [];
    const select = this.select(
      {
        targetList: [...returning, ...keyTarget],
        fromClause: [{ RangeVar: { ...relation, alias: { aliasname: alias } } }],
        op: 'SETOP_NONE',
      },
      undefined,
    );
    return {
      select: select.frag,
      columns: select.columns.slice(0, select.columns.length - keyTarget.length),
    };
  }

  /**
   * UPDATE/DELETE ... RETURNING: the rows' keys are selected FOR UPDATE first, the statement then runs on those
   * keys, and the rows are read by key (after an UPDATE, before a DELETE), all in one MySQL transaction.
   */
  private keyed(kind: 'update' | 'delete', body: Node, head: Frag, where: Frag | null): Plan {
    const { info, sql, alias } = this.table(body.relation as Node);
    const key = soleKey(info, kind);
    const a = quoteName(alias);
    const find = join(
      null,
      `SELECT ${a}.${quoteName(key)} FROM ${sql} AS ${a}`,
      ...(where ? [' WHERE ', where] : []),
      ' FOR UPDATE',
    );
    const { select, columns } = this.returningSelect(body.relation as Node, alias, key, returningOf(body));
    return {
      kind,
      statement: head,
      columns,
      keyed: { find, select, alias, key, readFirst: kind === 'delete' },
    };
  }

  protected update(body: Node): Plan {
    if (body.withClause) throw unsupported('WITH', 'update directly');
    if (listOf(body.fromClause).length) throw unsupported('UPDATE ... FROM', 'use a subquery in WHERE');
    const { info, sql, alias } = this.table(body.relation as Node);
    const scope: Scope = { entries: [{ alias, table: info }] };
    const targets = listOf(body.targetList);
    const head = join(
      null,
      `UPDATE ${sql} AS ${quoteName(alias)} SET `,
      this.assignments(targets, info, scope, alias),
    );
    const where = body.whereClause ? this.condition(body.whereClause as Node, scope) : null;
    if (returningOf(body).length) {
      const key = soleKey(info, 'update');
      if (targets.some((item) => bodyOf(item, 'ResTarget')?.name === key))
        throw unsupported('UPDATE ... RETURNING that changes the primary key');
      return this.keyed('update', body, head, where);
    }
    return { kind: 'update', statement: where ? join(null, head, ' WHERE ', where) : head, columns: null };
  }

  protected delete(body: Node): Plan {
    if (body.withClause) throw unsupported('WITH', 'delete directly');
    if (listOf(body.usingClause).length) throw unsupported('DELETE ... USING', 'use a subquery in WHERE');
    const { info, sql, alias } = this.table(body.relation as Node);
    const scope: Scope = { entries: [{ alias, table: info }] };
    const head = text(`DELETE ${quoteName(alias)} FROM ${sql} AS ${quoteName(alias)}`);
    const where = body.whereClause ? this.condition(body.whereClause as Node, scope) : null;
    if (returningOf(body).length) return this.keyed('delete', body, head, where);
    return { kind: 'delete', statement: where ? join(null, head, ' WHERE ', where) : head, columns: null };
  }
}

/** RETURNING of UPDATE and DELETE finds rows by a one-column primary key. */
function soleKey(info: TableInfo, kind: string): string {
  if (info.primaryKey.length !== 1)
    throw unsupported(
      `${kind.toUpperCase()} ... RETURNING on a table without a one-column primary key`,
      `select the rows ${kind === 'delete' ? 'before' : 'after'} the ${kind}`,
    );
  return info.primaryKey[0];
}

/** Column names an expression reads (last name of each reference). */
function readColumns(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((item) => readColumns(item, found));
  else if (node && typeof node === 'object') {
    const ref = bodyOf(node, 'ColumnRef');
    if (ref) {
      const names = namesOf(ref.fields);
      if (names[0] !== 'excluded' || names.length === 1) found.add(names[names.length - 1]);
    } else Object.values(node).forEach((value) => readColumns(value, found));
  }
  return found;
}
