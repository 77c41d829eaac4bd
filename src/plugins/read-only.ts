// Writes refused in a read-only transaction as PostgreSQL refuses them: SQLSTATE 25006, one message form for every plugin.
import { errorCodes } from '../errors.js';
import { findInTree } from '../router/ast-walk.js';
import type { StatementNode } from '../sql/parser.js';
import { PluginError } from './api.js';

/** In PostgreSQL's words, e.g. `cannot execute INSERT in a read-only transaction`; a PluginError, so plugins pass it on as is. */
export function readOnlyRefusal(command: string): PluginError {
  return new PluginError(
    errorCodes.readOnlyTransaction.sqlstate,
    `cannot execute ${command} in a read-only transaction`,
  );
}

const writeCommands: Record<string, string> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};

const lockStrengths: Record<string, string> = {
  LCS_FORKEYSHARE: 'FOR KEY SHARE',
  LCS_FORSHARE: 'FOR SHARE',
  LCS_FORNOKEYUPDATE: 'FOR NO KEY UPDATE',
  LCS_FORUPDATE: 'FOR UPDATE',
};

/**
 * The SQL command a read-only transaction refuses in a statement, named as PostgreSQL names it: a write
 * (a data-modifying WITH included) or a row lock (`SELECT FOR UPDATE`); undefined for a plain read.
 * Writes that happen inside a function call (cypher() with CREATE) are for the plugin that claims it.
 */
export function sqlWriteCommand(ast: StatementNode): string | undefined {
  let command: string | undefined;
  findInTree(ast, (key, value) => {
    command = writeCommands[key];
    if (!command && key === 'LockingClause') {
      const strength = lockStrengths[(value as { strength?: string }).strength ?? ''];
      command = strength && `SELECT ${strength}`;
    }
    return command !== undefined;
  });
  return command;
}
