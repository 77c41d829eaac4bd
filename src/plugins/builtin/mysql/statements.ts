// Whole statements on the claimed schema (SELECT, INSERT, UPDATE, DELETE) as MySQL statements with placeholders.
import { PluginError } from '../../api.js';
import { bodyOf, kindOf, listOf, namesOf, type Node } from './ast.js';
import type { TableColumn, TableInfo } from './catalog.js';
import { undefinedColumn, undefinedTable, unsupported } from './errors.js';
import {
  collated,
  Expressions,
  intConst,
  typeOfFrag,
  type Dialect,
  type Scope,
  type ScopeEntry,
} from './expressions.js';
import { join, list, quoteName, text, type Frag, type Slot } from './fragments.js';
import type { PgType } from './pg-types.js';

export interface OutputColumn {
  readonly name: string;
  readonly type: PgType;
  readonly typeModifier: number;
}

/** How INSERT ... RETURNING reads the inserted rows back: by the keys given, or by the generated ids. */
export interface ReadBack {
  /** The select list and FROM of the read-back query; the key list is added at run time. */
  readonly select: Frag;
  /** The table's alias in `select`, to filter on the key. */
  readonly alias: string;
  readonly key: string;
  readonly keyType: PgType;
  /** Key values as inserted, or 'generated' for an AUTO_INCREMENT key the statement left out. */
  readonly keys: readonly (Slot | string)[] | 'generated';
}

export interface Plan {
  readonly kind: 'select' | 'insert' | 'update' | 'delete';
  readonly statement: Frag;
  readonly columns: readonly OutputColumn[] | null;
  readonly readBack?: ReadBack;
  /** INSERT ... ON CONFLICT DO UPDATE: every row is inserted or updated, and PostgreSQL counts each once. */
  readonly rowsProposed?: number;
}

/** The tables a statement names on the claimed schema, read from the catalog before translating. */
export type Tables = ReadonlyMap<string, TableInfo>;

/** PostgreSQL's name for an unnamed select-list column (FigureColname). */
export function columnName(node: Node): string {
  const kind = kindOf(node);
  const body = (node as Record<string, Node>)[kind];
  switch (kind) {
    case 'ColumnRef': {
      const names = namesOf(body.fields);
      return names[names.length - 1] || '?column?';
    }
    case 'FuncCall':
      return namesOf(body.funcname).pop() ?? '?column?';
    case 'TypeCast': {
      const inner = columnName(body.arg as Node);
      return inner !== '?column?' ? inner : (namesOf((body.typeName as Node).names).pop() ?? '?column?');
    }
    case 'CaseExpr':
      return 'case';
    case 'CoalesceExpr':
      return 'coalesce';
    case 'A_Expr':
      return body.kind === 'AEXPR_NULLIF' ? 'nullif' : '?column?';
    case 'SQLValueFunction':
      return String(body.op).replace('SVFOP_', '').toLowerCase();
    case 'SubLink':
      return body.subLinkType === 'EXISTS_SUBLINK' ? 'exists' : '?column?';
    default:
      return '?column?';
  }
}

const noRows = 18446744073709551615n;

export class Translator {
  private readonly expressions: Expressions;

  constructor(
    private readonly schema: string,
    private readonly database: string,
    private readonly tables: Tables,
    private readonly dialect: Dialect,
  ) {
    this.expressions = new Expressions({ dialect, subquery: (node, scope) => this.subquery(node, scope) });
  }

  plan(ast: Node): Plan {
    const kind = kindOf(ast);
    const body = (ast as Record<string, Node>)[kind];
    switch (kind) {
      case 'SelectStmt': {
        const { frag, columns } = this.select(body, undefined);
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

  private table(relation: Node): { info: TableInfo; sql: string; alias: string } {
    const schema = String(relation.schemaname ?? '').toLowerCase();
    if (schema !== this.schema)
      throw unsupported(
        'mixing MySQL tables with PostgreSQL tables',
        `query ${this.schema}.<table> on its own`,
      );
    const name = String(relation.relname);
    const info = this.tables.get(name);
    if (!info) throw undefinedTable(`${this.schema}.${name}`);
    const alias = String((relation.alias as Node | undefined)?.aliasname ?? name);
    return { info, sql: `${quoteName(this.database)}.${quoteName(name)}`, alias };
  }

  private fromItem(node: Node, entries: ScopeEntry[], scope: () => Scope): Frag {
    const kind = kindOf(node);
    if (kind === 'RangeVar') {
      const { info, sql, alias } = this.table(bodyOf(node, 'RangeVar')!);
      if (entries.some((e) => e.alias === alias))
        throw new PluginError('42712', `table name "${alias}" specified more than once`);
      entries.push({ alias, table: info });
      return text(`${sql} AS ${quoteName(alias)}`);
    }
    if (kind === 'JoinExpr') {
      const join_ = bodyOf(node, 'JoinExpr')!;
      if (join_.isNatural || listOf(join_.usingClause).length)
        throw unsupported('NATURAL and USING joins', 'join with ON');
      if (join_.alias) throw unsupported('an alias on a join');
      const keyword = { JOIN_INNER: 'JOIN', JOIN_LEFT: 'LEFT JOIN', JOIN_RIGHT: 'RIGHT JOIN' }[
        String(join_.jointype)
      ];
      if (!keyword) throw unsupported(`${String(join_.jointype).replace('JOIN_', '')} joins`);
      const left = this.fromItem(join_.larg as Node, entries, scope);
      const right = this.fromItem(join_.rarg as Node, entries, scope);
      if (!join_.quals) return join(null, left, ' CROSS JOIN ', right);
      const on = this.condition(join_.quals as Node, scope());
      return join(null, '(', left, ` ${keyword} `, right, ' ON ', on, ')');
    }
    throw unsupported(`${kind} in FROM`, `name ${this.schema} tables directly`);
  }

  private condition(node: Node, scope: Scope): Frag {
    const f = this.expressions.expr(node, scope);
    if (f.slot) f.slot.type ??= 'bool';
    if (typeOfFrag(f) !== 'bool') throw unsupported('a condition that is not boolean');
    return f;
  }

  private subquery(node: Node, scope: Scope): Frag {
    const body = bodyOf(node, 'SelectStmt');
    if (!body) throw unsupported(`${kindOf(node)} as a subquery`);
    const { frag, columns } = this.select(body, scope);
    return { ...frag, type: columns[0]?.type ?? null };
  }

  select(body: Node, parent: Scope | undefined): { frag: Frag; columns: OutputColumn[] } {
    if (body.withClause) throw unsupported('WITH', 'query the tables directly');
    if (body.op !== 'SETOP_NONE')
      throw unsupported('UNION, INTERSECT and EXCEPT', 'run each SELECT on its own');
    if (listOf(body.valuesLists).length) throw unsupported('VALUES lists');
    if (listOf(body.windowClause).length) throw unsupported('window functions');
    if (body.intoClause) throw unsupported('SELECT INTO');
    if (body.limitOption === 'LIMIT_OPTION_WITH_TIES') throw unsupported('FETCH ... WITH TIES');
    const distinct = listOf(body.distinctClause);
    if (distinct.length && !(distinct.length === 1 && Object.keys(distinct[0]).length === 0))
      throw unsupported('DISTINCT ON', 'use GROUP BY');
    const fromItems = listOf(body.fromClause);
    if (!fromItems.length) throw unsupported('SELECT without FROM on MySQL');
    const entries: ScopeEntry[] = [];
    let scope: Scope = { entries, parent };
    const from = list(fromItems.map((item) => this.fromItem(item, entries, () => scope)));

    const targets: { name: string; frag: Frag; column?: TableColumn; node?: Node }[] = [];
    for (const item of listOf(body.targetList)) {
      const target = bodyOf(item, 'ResTarget')!;
      const val = target.val as Node;
      const ref = bodyOf(val, 'ColumnRef');
      const fields = listOf(ref?.fields);
      if (fields.length && kindOf(fields[fields.length - 1]) === 'A_Star') {
        const qualifier = fields.length > 1 ? namesOf(fields.slice(0, -1)).pop() : undefined;
        const chosen = entries.filter((e) => qualifier === undefined || e.alias === qualifier);
        if (!chosen.length) throw undefinedTable(String(qualifier));
        for (const entry of chosen)
          for (const column of entry.table.columns)
            targets.push({ name: column.name, frag: this.expressions.columnFrag(entry, column), column });
        continue;
      }
      const frag = this.expressions.expr(val, scope);
      if (frag.slot) frag.slot.type ??= 'text';
      targets.push({
        name: typeof target.name === 'string' ? target.name : columnName(val),
        frag,
        column: frag.column,
        node: val,
      });
    }
    scope = {
      entries,
      parent,
      outputs: targets.flatMap((t) => (t.node ? [{ name: t.name, node: t.node }] : [])),
    };
    const isDistinct = distinct.length > 0;
    const selectList = list(
      targets.map((t) =>
        join(null, isDistinct ? collated(t.frag, this.dialect) : t.frag, ` AS ${quoteName(t.name)}`),
      ),
    );
    const parts: (string | Frag)[] = [
      isDistinct ? 'SELECT DISTINCT ' : 'SELECT ',
      selectList,
      ' FROM ',
      from,
    ];
    if (body.whereClause) parts.push(' WHERE ', this.condition(body.whereClause as Node, scope));
    const groups = listOf(body.groupClause);
    if (groups.length)
      parts.push(
        ' GROUP BY ',
        list(groups.map((g) => collated(this.outputOrExpr(g, scope, targets), this.dialect))),
      );
    if (body.havingClause) parts.push(' HAVING ', this.condition(body.havingClause as Node, scope));
    const sorts = listOf(body.sortClause);
    if (sorts.length)
      parts.push(' ORDER BY ', list(sorts.map((s) => this.sortItem(bodyOf(s, 'SortBy')!, scope, targets))));
    parts.push(...this.limit(body, scope));
    parts.push(...this.locking(body));
    const columns = targets.map((t) => ({
      name: t.name,
      type: typeOfFrag(t.frag) ?? 'text',
      typeModifier: t.column?.mapped?.typeModifier ?? -1,
    }));
    return { frag: join(columns[0]?.type ?? null, ...parts), columns };
  }

  /** An ORDER BY / GROUP BY item: an output column by position or name, else an expression. */
  private outputOrExpr(
    node: Node,
    scope: Scope,
    targets: readonly { name: string; frag: Frag; node?: Node }[],
  ): Frag {
    const position = intConst(node);
    if (position !== undefined) {
      const target = targets[position - 1];
      if (!target) throw new PluginError('42P10', `ORDER BY position ${position} is not in select list`);
      return target.node ? this.expressions.expr(target.node, scope) : { ...target.frag };
    }
    const ref = bodyOf(node, 'ColumnRef');
    const names = namesOf(ref?.fields);
    if (ref && names.length === 1) {
      const byName = targets.filter((t) => t.name === names[0]);
      const isColumn = scope.entries.some((e) => e.table.columns.some((c) => c.name === names[0]));
      if (
        byName.length === 1 &&
        (!isColumn || byName[0].node === undefined || columnName(byName[0].node) === names[0])
      )
        return byName[0].node ? this.expressions.expr(byName[0].node, scope) : { ...byName[0].frag };
    }
    return this.expressions.expr(node, scope);
  }

  /** PostgreSQL puts NULLs last in ascending and first in descending order; MySQL does the opposite. */
  private sortItem(
    sort: Node,
    scope: Scope,
    targets: readonly { name: string; frag: Frag; node?: Node }[],
  ): Frag {
    if (sort.sortby_dir === 'SORTBY_USING') throw unsupported('ORDER BY ... USING');
    const descending = sort.sortby_dir === 'SORTBY_DESC';
    const nullsFirst =
      sort.sortby_nulls === 'SORTBY_NULLS_FIRST' || (sort.sortby_nulls !== 'SORTBY_NULLS_LAST' && descending);
    const value = collated(this.outputOrExpr(sort.node as Node, scope, targets), this.dialect);
    const direction = descending ? ' DESC' : '';
    // MySQL sorts NULL as the lowest value: first ascending, last descending.
    const mysqlNullsFirst = !descending;
    if (value.nullable === false || nullsFirst === mysqlNullsFirst) return join(null, value, direction);
    const probe = this.outputOrExpr(sort.node as Node, scope, targets);
    return join(null, '(', probe, nullsFirst ? ' IS NULL) DESC, ' : ' IS NULL), ', value, direction);
  }

  private limit(body: Node, scope: Scope): (string | Frag)[] {
    const value = (node: unknown): Frag | null => {
      if (!node) return null;
      const f = this.expressions.expr(node as Node, scope);
      if (bodyOf(node, 'A_Const')?.isnull) return null;
      if (f.slot) {
        f.slot.type = 'int8';
        return f;
      }
      if (intConst(node as Node) === undefined) throw unsupported('LIMIT or OFFSET with an expression');
      return f;
    };
    const count = value(body.limitCount);
    const offset = value(body.limitOffset);
    if (!count && !offset) return [];
    const parts: (string | Frag)[] = [' LIMIT ', count ?? String(noRows)];
    if (offset) parts.push(' OFFSET ', offset);
    return parts;
  }

  private locking(body: Node): string[] {
    const clauses = listOf(body.lockingClause).map((c) => bodyOf(c, 'LockingClause')!);
    if (!clauses.length) return [];
    if (clauses.length > 1 || listOf(clauses[0].lockedRels).length)
      throw unsupported('FOR UPDATE OF', 'lock every table of the statement');
    const strength = String(clauses[0].strength);
    const wait =
      { LockWaitSkip: ' SKIP LOCKED', LockWaitError: ' NOWAIT' }[String(clauses[0].waitPolicy)] ?? '';
    // FOR NO KEY UPDATE takes MySQL's only exclusive row lock: stronger, never a different result.
    const clause =
      strength === 'LCS_FORUPDATE' || strength === 'LCS_FORNOKEYUPDATE'
        ? ' FOR UPDATE'
        : ' LOCK IN SHARE MODE';
    if (wait && clause !== ' FOR UPDATE') throw unsupported('FOR SHARE with NOWAIT or SKIP LOCKED');
    return [clause + wait];
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
