// Small readers for libpg-query's JSON AST and the one-relation check, shared by the plugins that translate SQL (documents, widecolumn).

export type Node = Record<string, unknown>;

/** The node kind, such as "ColumnRef"; libpg-query wraps every node as `{ Kind: {...} }`. */
export function kindOf(node: unknown): string {
  return node && typeof node === 'object' ? (Object.keys(node)[0] ?? '') : '';
}

/** The fields of a node of the given kind, or undefined when it is another kind. */
export function bodyOf(node: unknown, kind: string): Node | undefined {
  if (kindOf(node) !== kind) return undefined;
  return (node as Record<string, Node>)[kind];
}

export function listOf(value: unknown): Node[] {
  return Array.isArray(value) ? (value as Node[]) : [];
}

/** `String` nodes in a name list, e.g. an operator or function name: `["pg_catalog", "int4"]`. */
export function names(list: unknown): string[] {
  return listOf(list).map((item) => String(bodyOf(item, 'String')?.sval ?? ''));
}

/** A plugin's refusal of SQL it will not translate: what it refuses and what to do instead. */
export type Refuse = (what: string, instead: string) => Error;

/** The words a plugin's refusals use for what it stores and for the statements it answers. */
export interface RelationWords {
  /** Plural, as in "mixing collections with PostgreSQL tables". */
  readonly things: string;
  /** Singular, as in "query docs.<collection> on its own". */
  readonly thing: string;
  /** What to do instead of a join or another FROM clause. */
  readonly oneFrom: string;
  /** What to do instead of a statement other than SELECT, INSERT, UPDATE or DELETE. */
  readonly otherStatements: string;
}

export interface StatementRelation {
  readonly kind: 'SelectStmt' | 'InsertStmt' | 'UpdateStmt' | 'DeleteStmt';
  readonly body: Node;
  /** The RangeVar read or written, in the plugin's schema. */
  readonly relation: Node;
}

/** The one relation a SELECT, INSERT, UPDATE or DELETE reads or writes; anything else is refused. */
export function statementRelation(
  ast: unknown,
  schema: string,
  refuse: Refuse,
  words: RelationWords,
): StatementRelation {
  const kind = kindOf(ast);
  const body = (ast as Record<string, Node>)[kind];
  let relation: Node | undefined;
  if (kind === 'SelectStmt') {
    const from = listOf(body.fromClause);
    relation = from.length === 1 ? bodyOf(from[0], 'RangeVar') : undefined;
    if (!relation)
      throw refuse(
        from.length > 1 || from.some((item) => kindOf(item) === 'JoinExpr') ? 'joins' : 'this FROM clause',
        words.oneFrom,
      );
  } else if (kind === 'InsertStmt' || kind === 'UpdateStmt' || kind === 'DeleteStmt') {
    relation = body.relation as Node;
  } else {
    throw refuse(`${kind.replace(/Stmt$/, '')} statements on schema ${schema}`, words.otherStatements);
  }
  if (String(relation.schemaname ?? '').toLowerCase() !== schema)
    throw refuse(
      `mixing ${words.things} with PostgreSQL tables`,
      `query ${schema}.<${words.thing}> on its own`,
    );
  return { kind, body, relation };
}
