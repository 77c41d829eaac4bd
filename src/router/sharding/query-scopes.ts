// The query levels of a statement (subqueries, CTE bodies, set-operation arms) and the relations each reads.
//
// Routing must see every relation a statement reads, wherever it appears, with the conditions that every row
// of it that matters to the result satisfies: those decide which shards hold the rows. CTE names are
// resolved as PostgreSQL does (a CTE shadows a table of the same name in its query), so they are never
// taken for tables.
import { funcCallName } from '../ast-walk.js';
import { nodeKind, type Node } from './ast-values.js';

/** One query level: a SELECT, one arm of a set operation, a VALUES list, or a write. */
export interface Scope {
  /** The level whose names this one may also use: a sublink's or LATERAL subquery's enclosing level. */
  outer: Scope | null;
  /** FROM item names of this level, shadowing outer ones: a relation, or null for a CTE or subquery. */
  names: Map<string, RelationRef | null>;
  /** A FROM item of a kind whose names are not known: qualified names found nowhere here stop here. */
  opaque: boolean;
  /** Unqualified columns may be told apart by key name (no JOIN … USING or NATURAL JOIN merges columns). */
  unqualified: boolean;
  /** The WHERE clause and every join condition: the equalities that make joins co-located. */
  conditions: unknown[];
  relations: RelationRef[];
  /** A UNION, INTERSECT or EXCEPT: its arms are scopes of their own. */
  setOperation: boolean;
  /** SELECT … INTO: creates a table. */
  into: boolean;
}

export interface RelationRef {
  /** The relation's name as written (case kept), for its catalog facts. */
  relname: string;
  /** Lower-cased, as the shard map names tables. */
  table: string;
  /** The name its columns are qualified with: the alias, else the table name (lower-cased). */
  alias: string;
  scope: Scope;
  /** Conditions (AND-ed) that every row of it that matters satisfies. */
  filter: unknown[];
  /** On the nullable side of an outer join: the WHERE clause may see it NULL-extended. */
  nullable: boolean;
  /** Read, written by UPDATE or DELETE (then `filter` holds the WHERE clause), or inserted into. */
  role: 'read' | 'write' | 'insert';
}

export interface StatementScopes {
  /** The statement's own level. */
  root: Scope;
  scopes: Scope[];
  relations: RelationRef[];
}

/** CTE names visible at a point of the statement, innermost WITH first. */
type CteNames = ReadonlySet<string>[];

const statementKinds = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt']);

class Builder {
  readonly scopes: Scope[] = [];
  readonly relations: RelationRef[] = [];

  scope(outer: Scope | null): Scope {
    const s: Scope = {
      outer,
      names: new Map(),
      opaque: false,
      unqualified: true,
      conditions: [],
      relations: [],
      setOperation: false,
      into: false,
    };
    this.scopes.push(s);
    return s;
  }

  relation(scope: Scope, rangeVar: Node, filter: unknown[], nullable: boolean, role: RelationRef['role']) {
    const relname = String(rangeVar.relname);
    const alias = (rangeVar.alias as { aliasname?: string } | undefined)?.aliasname ?? relname;
    const ref: RelationRef = {
      relname,
      table: relname.toLowerCase(),
      alias: alias.toLowerCase(),
      scope,
      filter,
      nullable,
      role,
    };
    scope.names.set(ref.alias, ref);
    scope.relations.push(ref);
    this.relations.push(ref);
    return ref;
  }

  /** A statement node (`{ SelectStmt: … }` and the like) as a level below `outer`. */
  statement(stmt: unknown, outer: Scope | null, ctes: CteNames): Scope {
    const k = nodeKind(stmt);
    const [kind, n] = k ?? ['', {}];
    const visible = this.withClause(n, outer, ctes);
    if (kind === 'SelectStmt') return this.select(n, outer, visible);
    const scope = this.scope(outer);
    if (kind === 'InsertStmt') {
      this.relation(scope, n.relation as Node, [], false, 'insert');
      // The inserted rows cannot name the target: their level sees only what the INSERT itself sees.
      if (n.selectStmt) this.statement(n.selectStmt, outer, visible);
      this.nested([n.onConflictClause, n.returningList, n.returningClause], scope, visible);
      return scope;
    }
    if (kind === 'UpdateStmt' || kind === 'DeleteStmt') {
      const where = conjuncts(n.whereClause);
      this.relation(scope, n.relation as Node, [], false, 'write');
      const extra = ((kind === 'UpdateStmt' ? n.fromClause : n.usingClause) as unknown[]) ?? [];
      for (const item of extra) this.fromItem(item, scope, [], false, visible);
      for (const r of scope.relations) r.filter.push(...where);
      if (n.whereClause) scope.conditions.push(n.whereClause);
      this.nested([n.whereClause, n.targetList, n.returningList, n.returningClause], scope, visible);
      return scope;
    }
    // Not a query: nothing below it is read as a relation of this statement's levels.
    return scope;
  }

  private withClause(n: Node, outer: Scope | null, ctes: CteNames): CteNames {
    const w = n.withClause as Node | undefined;
    const list = ((w?.ctes as Node[] | undefined) ?? []).map((c) => c.CommonTableExpr as Node);
    if (list.length === 0) return ctes;
    const names = new Set<string>();
    const all = [names, ...ctes];
    for (const c of list) {
      if (w!.recursive) names.add(String(c.ctename));
      // A CTE's body sees the CTEs before it (all of them when RECURSIVE), and the levels outside the query.
      this.statement(c.ctequery, outer, all);
      names.add(String(c.ctename));
    }
    return all;
  }

  private select(n: Node, outer: Scope | null, ctes: CteNames): Scope {
    const scope = this.scope(outer);
    scope.into = Boolean(n.intoClause);
    if (n.op && n.op !== 'SETOP_NONE') {
      scope.setOperation = true;
      this.statement({ SelectStmt: n.larg }, outer, ctes);
      this.statement({ SelectStmt: n.rarg }, outer, ctes);
      this.nested([n.sortClause, n.limitCount, n.limitOffset], scope, ctes);
      return scope;
    }
    for (const item of (n.fromClause as unknown[]) ?? []) this.fromItem(item, scope, [], false, ctes);
    const where = conjuncts(n.whereClause);
    for (const r of scope.relations) r.filter.push(...where);
    if (n.whereClause) scope.conditions.push(n.whereClause);
    this.nested(
      [
        n.whereClause,
        n.targetList,
        n.havingClause,
        n.groupClause,
        n.sortClause,
        n.distinctClause,
        n.windowClause,
        n.limitCount,
        n.limitOffset,
        n.valuesLists,
      ],
      scope,
      ctes,
    );
    return scope;
  }

  /** One FROM item; `path` holds the join conditions that filter its rows, `nullable` an outer join above. */
  private fromItem(item: unknown, scope: Scope, path: unknown[], nullable: boolean, ctes: CteNames): void {
    const k = nodeKind(item);
    if (!k) return;
    const [kind, n] = k;
    switch (kind) {
      case 'RangeVar': {
        const name = String(n.relname);
        if (!n.schemaname && ctes.some((s) => s.has(name))) {
          const alias = (n.alias as { aliasname?: string } | undefined)?.aliasname ?? name;
          scope.names.set(alias.toLowerCase(), null);
          return;
        }
        this.relation(scope, n, [...path], nullable, 'read');
        return;
      }
      case 'JoinExpr': {
        const quals = conjuncts(n.quals);
        const type = n.jointype as string;
        if (n.usingClause || n.isNatural) scope.unqualified = false;
        // An outer join's ON filters only its nullable side; the preserved side keeps every row.
        const left = type === 'JOIN_INNER' || type === 'JOIN_RIGHT' ? [...path, ...quals] : path;
        const right = type === 'JOIN_INNER' || type === 'JOIN_LEFT' ? [...path, ...quals] : path;
        this.fromItem(n.larg, scope, left, nullable || type === 'JOIN_RIGHT' || type === 'JOIN_FULL', ctes);
        this.fromItem(n.rarg, scope, right, nullable || type === 'JOIN_LEFT' || type === 'JOIN_FULL', ctes);
        if (n.quals) scope.conditions.push(n.quals);
        this.nested([n.quals], scope, ctes);
        const alias = (n.alias as { aliasname?: string } | undefined)?.aliasname;
        if (alias) scope.names.set(alias.toLowerCase(), null);
        return;
      }
      case 'RangeSubselect': {
        // Only a LATERAL subquery sees the FROM items beside it; any subquery sees the levels outside.
        this.statement(n.subquery, n.lateral ? scope : scope.outer, ctes);
        const alias = (n.alias as { aliasname?: string } | undefined)?.aliasname;
        if (alias) scope.names.set(alias.toLowerCase(), null);
        return;
      }
      case 'RangeFunction': {
        this.nested([n.functions], scope, ctes);
        const alias = (n.alias as { aliasname?: string } | undefined)?.aliasname;
        const first = ((n.functions as Node[] | undefined)?.[0]?.List as Node | undefined)?.items as
          Node[] | undefined;
        const name = alias ?? funcCallName(first?.[0]?.FuncCall);
        if (name) scope.names.set(name.toLowerCase(), null);
        else scope.opaque = true;
        return;
      }
      case 'RangeTableSample':
        this.fromItem(n.relation, scope, path, nullable, ctes);
        return;
      default:
        // A FROM item this router does not know: its names are unknown, and any table in it unrestricted.
        scope.opaque = true;
        this.unknownItem(item, scope, ctes);
    }
  }

  private unknownItem(item: unknown, scope: Scope, ctes: CteNames): void {
    walk(item, (key, value) => {
      if (key === 'RangeVar') this.relation(scope, value as Node, [], true, 'read');
      else if (statementKinds.has(key)) this.statement({ [key]: value }, scope, ctes);
      else return false;
      return true;
    });
  }

  /** Subqueries anywhere in expressions of `scope` (sublinks): levels that see `scope`. */
  private nested(parts: unknown[], scope: Scope, ctes: CteNames): void {
    walk(parts, (key, value) => {
      if (!statementKinds.has(key)) return false;
      this.statement({ [key]: value }, scope, ctes);
      return true;
    });
  }
}

/** Visits every property below `node`; a visitor returning true keeps the walk out of that value. */
function walk(node: unknown, visit: (key: string, value: unknown) => boolean): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const key in node) {
    const value = (node as Record<string, unknown>)[key];
    if (!visit(key, value)) walk(value, visit);
  }
}

/** The AND-ed parts of a condition. */
function conjuncts(expr: unknown): unknown[] {
  const k = nodeKind(expr);
  if (!k) return [];
  if (k[0] === 'BoolExpr' && k[1].boolop === 'AND_EXPR') return (k[1].args as unknown[]).flatMap(conjuncts);
  return [expr];
}

/** Parsed statements come back as the same node while cached; scopes never depend on anything else. */
const known = new WeakMap<Node, StatementScopes>();

export function statementScopes(stmt: Node): StatementScopes {
  let s = known.get(stmt);
  if (s) return s;
  const b = new Builder();
  const root = b.statement(stmt, null, []);
  s = { root, scopes: b.scopes, relations: b.relations };
  known.set(stmt, s);
  return s;
}

/** Scopes that `inner` may name columns of: itself, then each enclosing level outward. */
export function* visibleScopes(inner: Scope): Generator<Scope> {
  for (let s: Scope | null = inner; s; s = s.outer) yield s;
}
