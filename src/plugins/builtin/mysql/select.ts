// SELECT on the claimed schema as MySQL: FROM items and joins, the select list, WHERE, GROUP BY, ORDER BY, LIMIT, locks.
import { bodyOf, kindOf, listOf, namesOf, type Node } from './ast.js';
import type { TableColumn, TableInfo } from './catalog.js';
import { pluginError, undefinedTable, unsupported } from './errors.js';
import { averageParts } from './average.js';
import { Expressions } from './expressions.js';
import { join, list, quoteName, text, type Frag } from './fragments.js';
import { columnName, type OutputColumn, type Tables } from './plan.js';
import { collated, intConst, typeOfFrag, type Dialect, type Scope, type ScopeEntry } from './scope.js';

/** One select-list item: its output name and MySQL expression, and the PostgreSQL node it came from. */
export interface Target {
  readonly name: string;
  readonly frag: Frag;
  readonly column?: TableColumn;
  readonly node?: Node;
  /** avg(x) of integers or numeric: the sum follows `frag` as a second MySQL column, the count. */
  readonly count?: Frag;
}

const noRows = 18446744073709551615n;

export class Queries {
  protected readonly expressions: Expressions;

  constructor(
    protected readonly schema: string,
    protected readonly database: string,
    protected readonly tables: Tables,
    protected readonly dialect: Dialect,
  ) {
    this.expressions = new Expressions({ dialect, subquery: (node, scope) => this.subquery(node, scope) });
  }

  protected table(relation: Node): { info: TableInfo; sql: string; alias: string } {
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
        throw pluginError('duplicateAlias', `table name "${alias}" specified more than once`);
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

  protected condition(node: Node, scope: Scope): Frag {
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

  /** What MySQL has no faithful form of in a SELECT. */
  private refuseClauses(body: Node): void {
    if (body.withClause) throw unsupported('WITH', 'query the tables directly');
    if (listOf(body.valuesLists).length) throw unsupported('VALUES lists');
    if (listOf(body.windowClause).length) throw unsupported('window functions');
    if (body.intoClause) throw unsupported('SELECT INTO');
    if (body.limitOption === 'LIMIT_OPTION_WITH_TIES') throw unsupported('FETCH ... WITH TIES');
    const distinct = listOf(body.distinctClause);
    if (distinct.length && !(distinct.length === 1 && Object.keys(distinct[0]).length === 0))
      throw unsupported('DISTINCT ON', 'use GROUP BY');
    if (!listOf(body.fromClause).length) throw unsupported('SELECT without FROM on MySQL');
  }

  /** The select list, `*` expanded in the order of the FROM items. */
  private targets(body: Node, entries: readonly ScopeEntry[], scope: Scope, outermost: boolean): Target[] {
    const targets: Target[] = [];
    for (const item of listOf(body.targetList)) {
      const target = bodyOf(item, 'ResTarget')!;
      const val = target.val as Node;
      const fields = listOf(bodyOf(val, 'ColumnRef')?.fields);
      if (fields.length && kindOf(fields[fields.length - 1]) === 'A_Star') {
        const qualifier = fields.length > 1 ? namesOf(fields.slice(0, -1)).pop() : undefined;
        const chosen = entries.filter((e) => qualifier === undefined || e.alias === qualifier);
        if (!chosen.length) throw undefinedTable(String(qualifier));
        for (const entry of chosen)
          for (const column of entry.table.columns)
            targets.push({ name: column.name, frag: this.expressions.columnFrag(entry, column), column });
        continue;
      }
      const name = typeof target.name === 'string' ? target.name : columnName(val);
      const average = outermost ? averageParts(this.expressions, val, scope) : undefined;
      if (average) {
        targets.push({ name, frag: average.sum, count: average.count, node: val });
        continue;
      }
      const frag = this.expressions.expr(val, scope);
      if (frag.slot) frag.slot.type ??= 'text';
      targets.push({ name, frag, column: frag.column, node: val });
    }
    return targets;
  }

  /** `outermost`: the statement's own select list, whose avg() columns the handler computes from sum and count. */
  select(
    body: Node,
    parent: Scope | undefined,
    outermost = false,
    collateText = false,
  ): { frag: Frag; columns: OutputColumn[] } {
    if (body.op !== 'SETOP_NONE') return this.setOperation(body, parent);
    this.refuseClauses(body);
    const entries: ScopeEntry[] = [];
    let scope: Scope = { entries, parent };
    const from = list(listOf(body.fromClause).map((item) => this.fromItem(item, entries, () => scope)));
    const targets = this.targets(body, entries, scope, outermost);
    scope = {
      entries,
      parent,
      outputs: targets.flatMap((t) => (t.node ? [{ name: t.name, node: t.node }] : [])),
    };
    const isDistinct = listOf(body.distinctClause).length > 0;
    const selectList = list(
      targets.map((t) => {
        const value = isDistinct || collateText ? collated(t.frag, this.dialect) : t.frag;
        const item = join(null, value, ` AS ${quoteName(t.name)}`);
        return t.count ? join(null, item, ', ', t.count, ` AS ${quoteName(`${t.name} count`)}`) : item;
      }),
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
    parts.push(...this.ordering(body, scope, targets));
    parts.push(...this.locking(body));
    const columns = targets.map((t) => ({
      name: t.name,
      type: typeOfFrag(t.frag) ?? 'text',
      typeModifier: t.column?.mapped?.typeModifier ?? -1,
      average: t.count !== undefined,
    }));
    return { frag: join(columns[0]?.type ?? null, ...parts), columns };
  }

  /** UNION, INTERSECT, EXCEPT of SELECTs with the same column types; text compared by code point to remove duplicates. */
  private setOperation(body: Node, parent: Scope | undefined): { frag: Frag; columns: OutputColumn[] } {
    if (body.withClause) throw unsupported('WITH', 'query the tables directly');
    if (listOf(body.lockingClause).length) throw unsupported('FOR UPDATE with UNION, INTERSECT or EXCEPT');
    const op = { SETOP_UNION: 'UNION', SETOP_INTERSECT: 'INTERSECT', SETOP_EXCEPT: 'EXCEPT' }[
      String(body.op)
    ];
    if (!op) throw unsupported(String(body.op));
    if (op !== 'UNION' && !this.dialect.intersectExcept)
      throw unsupported(`${op} on this MySQL server`, 'use MariaDB 10.5 or later, or MySQL 8.0.31 or later');
    // The parser gives the branches as SelectStmt bodies, without the wrapping node.
    const branch = (node: unknown) => this.select(node as Node, parent, false, !body.all);
    const left = branch(body.larg);
    const right = branch(body.rarg);
    if (left.columns.length !== right.columns.length)
      throw pluginError('syntaxError', `each ${op} query must have the same number of columns`);
    const columns = left.columns.map((column, i) => {
      const other = right.columns[i];
      if (column.type !== other.type)
        throw unsupported(`${op} of ${column.type} and ${other.type} columns`, 'cast both to one type');
      return {
        ...column,
        typeModifier: column.typeModifier === other.typeModifier ? column.typeModifier : -1,
      };
    });
    const combined = join(null, '(', left.frag, `) ${op}${body.all ? ' ALL' : ''} (`, right.frag, ')');
    const ordering = this.resultOrdering(body, parent, columns);
    if (!ordering.length) return { frag: join(columns[0]?.type ?? null, combined), columns };
    return {
      frag: join(columns[0]?.type ?? null, 'SELECT * FROM (', combined, ') AS `result`', ...ordering),
      columns,
    };
  }

  /** ORDER BY and LIMIT of a set operation, over its result as a derived table. */
  private resultOrdering(body: Node, parent: Scope | undefined, columns: OutputColumn[]): (string | Frag)[] {
    const table: TableInfo = {
      name: 'result',
      columns: columns.map((c) => ({
        name: c.name,
        mapped: { type: c.type, typeModifier: c.typeModifier },
        columnType: c.type,
        nullable: true,
        autoIncrement: false,
        charset: null,
      })),
      primaryKey: [],
      uniqueKeys: [],
    };
    const entry: ScopeEntry = { alias: 'result', table };
    const targets = table.columns.map((column) => ({
      name: column.name,
      frag: this.expressions.columnFrag(entry, column),
      column,
    }));
    return this.ordering(body, { entries: [entry], parent }, targets);
  }

  /** ORDER BY, LIMIT and OFFSET. */
  protected ordering(body: Node, scope: Scope, targets: readonly Target[]): (string | Frag)[] {
    const parts: (string | Frag)[] = [];
    const sorts = listOf(body.sortClause);
    if (sorts.length)
      parts.push(' ORDER BY ', list(sorts.map((s) => this.sortItem(bodyOf(s, 'SortBy')!, scope, targets))));
    parts.push(...this.limit(body, scope));
    return parts;
  }

  /** An ORDER BY / GROUP BY item: an output column by position or name, else an expression. */
  private outputOrExpr(node: Node, scope: Scope, targets: readonly Target[]): Frag {
    const position = intConst(node);
    if (position !== undefined) {
      const target = targets[position - 1];
      if (!target)
        throw pluginError('invalidColumnReference', `ORDER BY position ${position} is not in select list`);
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
  private sortItem(sort: Node, scope: Scope, targets: readonly Target[]): Frag {
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
}
