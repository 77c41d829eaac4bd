// Neo4j and driver errors as PluginErrors with the SQLSTATE a PostgreSQL client would expect, and Neo4j's message.
import { errorCodes, type ErrorCode } from '../../../errors.js';
import { PluginError } from '../../api.js';

/** A PluginError with the registry's SQLSTATE for `code`. */
export function pluginError(code: ErrorCode, message: string, hint?: string): PluginError {
  return new PluginError(errorCodes[code].sqlstate, message, hint);
}

/** Exact Neo4j status codes first, then their classification prefixes (longest first). */
const byCode: Record<string, string> = {
  'Neo.ClientError.Statement.SyntaxError': errorCodes.syntaxError.sqlstate,
  'Neo.ClientError.Statement.ParameterMissing': errorCodes.undefinedParameter.sqlstate,
  'Neo.ClientError.Statement.TypeError': errorCodes.invalidParameterValue.sqlstate,
  'Neo.ClientError.Statement.ArgumentError': errorCodes.invalidParameterValue.sqlstate,
  'Neo.ClientError.Statement.ArithmeticError': errorCodes.divisionByZero.sqlstate,
  'Neo.ClientError.Statement.EntityNotFound': errorCodes.invalidParameterValue.sqlstate,
  'Neo.ClientError.Statement.SemanticError': errorCodes.syntaxError.sqlstate,
  'Neo.ClientError.Statement.AccessMode': errorCodes.readOnlyTransaction.sqlstate,
  'Neo.ClientError.Schema.ConstraintValidationFailed': errorCodes.uniqueViolation.sqlstate,
  'Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists': errorCodes.duplicateObject.sqlstate,
  'Neo.ClientError.Schema.ConstraintAlreadyExists': errorCodes.duplicateObject.sqlstate,
  'Neo.ClientError.Schema.IndexAlreadyExists': errorCodes.duplicateTable.sqlstate,
  'Neo.ClientError.Database.DatabaseNotFound': errorCodes.invalidSchemaName.sqlstate,
  'Neo.ClientError.Security.Unauthorized': errorCodes.invalidPassword.sqlstate,
  'Neo.ClientError.Security.AuthenticationRateLimit': errorCodes.invalidAuthorization.sqlstate,
  'Neo.ClientError.Security.Forbidden': errorCodes.insufficientPrivilege.sqlstate,
  'Neo.ClientError.Transaction.TransactionTimedOut': errorCodes.queryCanceled.sqlstate,
  'Neo.ClientError.Transaction.Terminated': errorCodes.queryCanceled.sqlstate,
  'Neo.TransientError.Transaction.DeadlockDetected': errorCodes.deadlockDetected.sqlstate,
  'Neo.TransientError.Transaction.Terminated': errorCodes.queryCanceled.sqlstate,
  'Neo.TransientError.General.DatabaseUnavailable': errorCodes.connectionFailure.sqlstate,
  ServiceUnavailable: errorCodes.connectionFailure.sqlstate,
  SessionExpired: errorCodes.connectionFailure.sqlstate,
};

const byPrefix: [string, string][] = [
  ['Neo.ClientError.Schema.', errorCodes.syntaxErrorOrAccessRuleViolation.sqlstate],
  ['Neo.ClientError.Statement.', errorCodes.syntaxErrorOrAccessRuleViolation.sqlstate],
  ['Neo.ClientError.Transaction.', errorCodes.invalidTransactionState.sqlstate],
  ['Neo.ClientError.Security.', errorCodes.insufficientPrivilege.sqlstate],
  ['Neo.ClientError.', errorCodes.syntaxErrorOrAccessRuleViolation.sqlstate],
  ['Neo.TransientError.', errorCodes.serializationFailure.sqlstate],
  ['Neo.DatabaseError.', errorCodes.internalError.sqlstate],
];

export function sqlstateFor(code: string | undefined): string {
  if (code === undefined) return errorCodes.internalError.sqlstate;
  return (
    byCode[code] ??
    byPrefix.find(([prefix]) => code.startsWith(prefix))?.[1] ??
    errorCodes.internalError.sqlstate
  );
}

function hintFor(sqlstate: string, database: string): string | undefined {
  if (sqlstate === errorCodes.connectionFailure.sqlstate)
    return 'Check that Neo4j is running and plugins.graph.url points at it.';
  if (sqlstate === errorCodes.invalidSchemaName.sqlstate)
    return `Create the Neo4j database "${database}" or map the graph to another one in plugins.graph.graphs.`;
  if (
    sqlstate === errorCodes.serializationFailure.sqlstate ||
    sqlstate === errorCodes.deadlockDetected.sqlstate
  )
    return 'The transaction can be retried.';
  return undefined;
}

/** Our own PluginErrors pass through; anything else from the driver or Neo4j is translated. */
export function toPluginError(err: unknown, database: string): PluginError {
  if (err instanceof PluginError) return err;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const sqlstate = sqlstateFor(typeof code === 'string' ? code : undefined);
  const prefix = sqlstate === errorCodes.connectionFailure.sqlstate ? 'Neo4j is unavailable: ' : '';
  const status = typeof code === 'string' && code.startsWith('Neo.') ? `Neo4j status ${code}.` : undefined;
  const hint = [hintFor(sqlstate, database), status].filter(Boolean).join(' ') || undefined;
  return new PluginError(sqlstate, `${prefix}${message}`, hint);
}
