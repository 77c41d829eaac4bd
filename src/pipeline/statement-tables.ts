// What the pipeline reads off a parsed statement before routing: the tables it names, whether it may travel as sent.
import { findInTree } from '../router/ast-walk.js';
import { nodeKind, type Node } from '../router/sharding/ast-values.js';

/** Statements that may go to a shard as the client sent them: plain SELECT, INSERT, UPDATE, DELETE. */
export function travelsAsSent(stmt: Node): boolean {
  const kind = nodeKind(stmt)?.[0];
  return kind === 'SelectStmt' || kind === 'InsertStmt' || kind === 'UpdateStmt' || kind === 'DeleteStmt';
}

/** Tables a statement names, found once per parsed statement (parses are cached, so nodes repeat). */
const tablesByStatement = new WeakMap<Node, string[]>();

export function tablesOf(stmt: Node): string[] {
  let tables = tablesByStatement.get(stmt);
  if (tables) return tables;
  tables = [];
  findInTree(stmt, (key, value) => {
    if (key === 'RangeVar' || key === 'relation') {
      const name = (value as { relname?: string }).relname;
      if (name) tables!.push(name);
    }
    return false;
  });
  tablesByStatement.set(stmt, tables);
  return tables;
}
