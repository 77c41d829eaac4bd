// Whole statements on the claimed schema (SELECT, INSERT, UPDATE, DELETE) as MySQL statements with placeholders.
import { PluginError } from '../../api.js';
import { bodyOf, kindOf, listOf, namesOf, type Node } from './ast.js';
import type { TableColumn, TableInfo } from './catalog.js';
import { undefinedColumn, unsupported } from './errors.js';
import { join, list, quoteName, text, type Frag } from './fragments.js';
import type { OutputColumn, Plan, ReadBack } from './plan.js';
import type { Scope, ScopeEntry } from './scope.js';
import { Queries } from './select.js';

export type { OutputColumn, Plan, ReadBack, Tables } from './plan.js';
export { columnName } from './plan.js';

export class Translator extends Queries {
  plan(ast: Node): Plan {
    const kind = kindOf(ast);
    const body = (ast as Record<string, Node>)[kind];
    switch (kind) {
      case 'SelectStmt': {
        const { frag, columns } = this.select(body, undefined, true);
        return { kind: 'select', statement: frag, columns };
      }
      case 'InsertStmt':
        return this.insert(body);
      case 'UpdateStmt':
        return this.update(body);
      case 'DeleteStmt':
        return this.delete(body);
      default:
        throw unsupported(
          `${kind.replace(/Stmt$/, '')} statements on schema ${this.schema}`,
          'use SELECT, INSERT, UPDATE or DELETE (manage MySQL tables on MySQL)',
        );
    }
  }

  private insert(body: Node): Plan {
    if (body.withClause) throw unsupported('WITH', 'insert directly');
    const { info, sql, alias } = this.table(body.relation as Node);
    const named = listOf(body.cols).map((c) => {
      const target = bodyOf(c, 'ResTarget')!;
      if (listOf(target.indirection).length) throw unsupported('INSERT into a part of a column');
      const column = info.columns.find((col) => col.name === target.name);
      if (!column) throw undefinedColumn(String(target.name), `${this.schema}.${info.name}`);
      return column;
    });
    const columns = named.length ? named : info.columns;
    const entry: ScopeEntry = { alias, table: info };
    const scope: Scope = { entries: [] };
    const source = bodyOf(body.selectStmt, 'SelectStmt');
    let values: Frag;
    let rows: Frag[][] = [];
    if (!source) values = text(' VALUES ()');
    else if (listOf(source.valuesLists).length) {
      rows = listOf(source.valuesLists).map((row) => {
        const items = listOf(bodyOf(row, 'List')?.items);
        if (items.length > columns.length)
          throw new PluginError('42601', 'INSERT has more expressions than target columns');
        return items.map((item, i) => {
          if (kindOf(item) === 'SetToDefault') return text('DEFAULT');
          const f = this.expressions.expr(item, scope);
          if (f.slot) f.slot.type ??= columns[i].mapped?.type ?? null;
          return f;
        });
      });
      values = join(null, ' VALUES ', list(rows.map((row) => join(null, '(', list(row), ')'))));
    } else values = join(null, ' ', this.select(source, undefined).frag);
    const columnList = source ? columns.slice(0, rows[0]?.length ?? columns.length) : [];
    const head = text(`INSERT INTO ${sql} (${columnList.map((c) => quoteName(c.name)).join(', ')})`);
    const parts: (string | Frag)[] = [head, values];
    let rowsProposed: number | undefined;
    const conflict = body.onConflictClause as Node | undefined;
    if (conflict) {
      parts.push(this.onConflict(conflict, info, entry));
      if (!rows.length) throw unsupported('INSERT ... SELECT ... ON CONFLICT', 'insert VALUES');
      rowsProposed = rows.length;
    }
    const returning = listOf(
      bodyOf(body.returningClause, 'exprs') ??
        (body.returningClause as Node | undefined)?.exprs ??
        body.returningList,
    );
    let readBack: ReadBack | undefined;
    let output: OutputColumn[] | null = null;
    if (returning.length) {
      if (conflict) throw unsupported('RETURNING with ON CONFLICT');
      const keyName = info.primaryKey.length === 1 ? info.primaryKey[0] : undefined;
      const keyTarget = keyName
        ? [
            {
              ResTarget: {
                val: { ColumnRef: { fields: [{ String: { sval: alias } }, { String: { sval: keyName } }] } },
              },
            },
          ]
        : [];
      const select = this.select(
        {
          targetList: [...returning, ...keyTarget],
          fromClause: [{ RangeVar: { ...(body.relation as Node), alias: { aliasname: alias } } }],
          op: 'SETOP_NONE',
        },
        undefined,
      );
      output = select.columns.slice(0, select.columns.length - keyTarget.length);
      readBack = this.readBack(info, columnList, rows, select.frag, alias);
    }
    return { kind: 'insert', statement: join(null, ...parts), columns: output, readBack, rowsProposed };
  }

  private readBack(
    info: TableInfo,
    columns: readonly TableColumn[],
    rows: Frag[][],
    select: Frag,
    alias: string,
  ): ReadBack {
    const refuse = () =>
      unsupported(
        'RETURNING here',
        'MySQL cannot return inserted rows: it works for a one-column primary key given in every row or generated by AUTO_INCREMENT',
      );
    if (info.primaryKey.length !== 1 || !rows.length) throw refuse();
    const key = info.columns.find((c) => c.name === info.primaryKey[0])!;
    const at = columns.indexOf(key);
    const keyType = key.mapped?.type ?? 'text';
    if (at < 0 || rows.every((row) => row[at] === undefined)) {
      if (!key.autoIncrement) throw refuse();
      return { select, alias, key: key.name, keyType, keys: 'generated' };
    }
    const keys = rows.map((row) => {
      const f = row[at];
      if (f?.slot) return f.slot;
      // A number constant as the parser wrote it.
      if (f && f.parts.length === 1 && typeof f.parts[0] === 'string' && /^-?\d+$/.test(f.parts[0]))
        return f.parts[0];
      throw refuse();
    });
    return { select, alias, key: key.name, keyType, keys };
  }

  private onConflict(conflict: Node, info: TableInfo, entry: ScopeEntry): Frag {
    if (conflict.action !== 'ONCONFLICT_UPDATE')
      throw unsupported(
        'ON CONFLICT DO NOTHING',
        'MySQL cannot tell skipped rows from unchanged ones; check first',
      );
    const infer = conflict.infer as Node | undefined;
    const target = listOf(infer?.indexElems).map((e) => String(bodyOf(e, 'IndexElem')?.name));
    // MySQL's ON DUPLICATE KEY UPDATE fires on any unique key: the same as PostgreSQL's only with one.
    const keys = info.uniqueKeys;
    const same =
      keys.length === 1 && target.length === keys[0].length && target.every((c) => keys[0].includes(c));
    if (!same || infer?.conname || infer?.whereClause)
      throw unsupported(
        'ON CONFLICT on a table with several unique keys, or on another target than its one unique key',
      );
    if (conflict.whereClause) throw unsupported('ON CONFLICT DO UPDATE ... WHERE');
    const scope: Scope = { entries: [entry, { alias: 'excluded', table: info, proposed: true }] };
    const assignments = this.assignments(listOf(conflict.targetList), info, scope, entry.alias);
    return join(null, ' ON DUPLICATE KEY UPDATE ', assignments);
  }

  /** SET lists; MySQL applies them left to right, so one may not read a column an earlier one set. */
  private assignments(targets: Node[], info: TableInfo, scope: Scope, alias: string): Frag {
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

  private update(body: Node): Plan {
    if (body.withClause) throw unsupported('WITH', 'update directly');
    if (listOf(body.fromClause).length) throw unsupported('UPDATE ... FROM', 'use a subquery in WHERE');
    if (
      listOf(
        bodyOf(body.returningClause, 'exprs') ??
          (body.returningClause as Node | undefined)?.exprs ??
          body.returningList,
      ).length
    )
      throw unsupported('UPDATE ... RETURNING', 'select the rows after updating them');
    const { info, sql, alias } = this.table(body.relation as Node);
    const scope: Scope = { entries: [{ alias, table: info }] };
    const parts: (string | Frag)[] = [
      `UPDATE ${sql} AS ${quoteName(alias)} SET `,
      this.assignments(listOf(body.targetList), info, scope, alias),
    ];
    if (body.whereClause) parts.push(' WHERE ', this.condition(body.whereClause as Node, scope));
    return { kind: 'update', statement: join(null, ...parts), columns: null };
  }

  private delete(body: Node): Plan {
    if (body.withClause) throw unsupported('WITH', 'delete directly');
    if (listOf(body.usingClause).length) throw unsupported('DELETE ... USING', 'use a subquery in WHERE');
    if (
      listOf(
        bodyOf(body.returningClause, 'exprs') ??
          (body.returningClause as Node | undefined)?.exprs ??
          body.returningList,
      ).length
    )
      throw unsupported('DELETE ... RETURNING', 'select the rows before deleting them');
    const { info, sql, alias } = this.table(body.relation as Node);
    const scope: Scope = { entries: [{ alias, table: info }] };
    const parts: (string | Frag)[] = [`DELETE ${quoteName(alias)} FROM ${sql} AS ${quoteName(alias)}`];
    if (body.whereClause) parts.push(' WHERE ', this.condition(body.whereClause as Node, scope));
    return { kind: 'delete', statement: join(null, ...parts), columns: null };
  }
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
