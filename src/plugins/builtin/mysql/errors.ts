// The errors this plugin sends to clients: its own refusals, and MySQL's errors under the SQLSTATE PostgreSQL would use.
import { errorCodes, type ErrorCode } from '../../../errors.js';
import { PluginError } from '../../api.js';

/** A PluginError with the registry's SQLSTATE for `code`. */
export function pluginError(code: ErrorCode, message: string, hint?: string): PluginError {
  return new PluginError(errorCodes[code].sqlstate, message, hint);
}

/** SQL with no faithful MySQL translation: says what, and what to do instead. */
export function unsupported(what: string, instead?: string): PluginError {
  return new PluginError(
    errorCodes.featureNotSupported.sqlstate,
    `mysql plugin: ${what} is not supported${instead ? `; ${instead}` : ''}`,
  );
}

export function undefinedColumn(name: string, table: string): PluginError {
  return pluginError('undefinedColumn', `column "${name}" does not exist in ${table}`);
}

export function undefinedTable(table: string): PluginError {
  return new PluginError(errorCodes.undefinedTable.sqlstate, `relation "${table}" does not exist`);
}

export function invalidInput(type: string, text: string): PluginError {
  return pluginError('invalidTextRepresentation', `invalid input syntax for type ${type}: "${text}"`);
}

/** MySQL error numbers and the SQLSTATE PostgreSQL reports for the same failure. */
const byErrno: Record<number, string> = {
  1062: errorCodes.uniqueViolation.sqlstate, // ER_DUP_ENTRY
  1586: errorCodes.uniqueViolation.sqlstate, // ER_DUP_ENTRY_WITH_KEY_NAME
  1451: errorCodes.foreignKeyViolation.sqlstate, // ER_ROW_IS_REFERENCED_2
  1452: errorCodes.foreignKeyViolation.sqlstate, // ER_NO_REFERENCED_ROW_2
  1048: errorCodes.notNullViolation.sqlstate, // ER_BAD_NULL_ERROR
  1364: errorCodes.notNullViolation.sqlstate, // ER_NO_DEFAULT_FOR_FIELD
  4025: errorCodes.checkViolation.sqlstate, // MariaDB ER_CONSTRAINT_FAILED
  3819: errorCodes.checkViolation.sqlstate, // MySQL ER_CHECK_CONSTRAINT_VIOLATED
  1264: errorCodes.numericValueOutOfRange.sqlstate, // ER_WARN_DATA_OUT_OF_RANGE
  1690: errorCodes.numericValueOutOfRange.sqlstate, // ER_DATA_OUT_OF_RANGE
  1406: errorCodes.stringDataRightTruncation.sqlstate, // ER_DATA_TOO_LONG
  1366: errorCodes.invalidTextRepresentation.sqlstate, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
  1292: errorCodes.invalidDatetimeFormat.sqlstate, // ER_TRUNCATED_WRONG_VALUE
  1365: errorCodes.divisionByZero.sqlstate, // ER_DIVISION_BY_ZERO
  1054: errorCodes.undefinedColumn.sqlstate, // ER_BAD_FIELD_ERROR
  1146: errorCodes.undefinedTable.sqlstate, // ER_NO_SUCH_TABLE
  1064: errorCodes.syntaxError.sqlstate, // ER_PARSE_ERROR
  1055: errorCodes.groupingError.sqlstate, // ER_WRONG_FIELD_WITH_GROUP
  1111: errorCodes.groupingError.sqlstate, // ER_INVALID_GROUP_FUNC_USE
  1142: errorCodes.insufficientPrivilege.sqlstate, // ER_TABLEACCESS_DENIED_ERROR
  1044: errorCodes.insufficientPrivilege.sqlstate, // ER_DBACCESS_DENIED_ERROR
  1045: errorCodes.invalidPassword.sqlstate, // ER_ACCESS_DENIED_ERROR
  1213: errorCodes.deadlockDetected.sqlstate, // ER_LOCK_DEADLOCK
  1205: errorCodes.lockNotAvailable.sqlstate, // ER_LOCK_WAIT_TIMEOUT
  1792: errorCodes.readOnlyTransaction.sqlstate, // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
  1969: errorCodes.queryCanceled.sqlstate, // MariaDB ER_STATEMENT_TIMEOUT
  3024: errorCodes.queryCanceled.sqlstate, // MySQL ER_QUERY_TIMEOUT
  1317: errorCodes.queryCanceled.sqlstate, // ER_QUERY_INTERRUPTED
  2002: errorCodes.backendUnavailable.sqlstate,
  2003: errorCodes.backendUnavailable.sqlstate,
  2006: errorCodes.backendUnavailable.sqlstate,
  2013: errorCodes.backendUnavailable.sqlstate,
  1040: errorCodes.tooManyConnections.sqlstate, // ER_CON_COUNT_ERROR
};

/** Node and mysql2 codes for a MySQL that cannot be reached or went away. */
const connectionCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
]);

/** Our own PluginErrors pass through; MySQL's and the driver's are translated, keeping MySQL's message. */
export function toPluginError(err: unknown): PluginError {
  if (err instanceof PluginError) return err;
  const { errno, code, sqlMessage } = (err ?? {}) as { errno?: number; code?: string; sqlMessage?: string };
  const message = sqlMessage ?? (err instanceof Error ? err.message : String(err));
  const unreachable =
    (typeof code === 'string' && connectionCodes.has(code)) ||
    (err instanceof Error &&
      /closed state|Connection lost|connect ETIMEDOUT|Pool is closed/i.test(err.message));
  if (unreachable)
    return new PluginError(
      errorCodes.backendUnavailable.sqlstate,
      `MySQL is unavailable: ${message}`,
      'Check that MySQL is running and plugins.mysql points at it.',
    );
  const sqlstate = (errno !== undefined && byErrno[errno]) || errorCodes.internalError.sqlstate;
  return new PluginError(sqlstate, message, code ? `MySQL error ${errno} ${code}` : undefined);
}

/** A zero divisor: MySQL answers NULL with warning 1365 in a SELECT, PostgreSQL raises this. */
export function divisionByZero(): PluginError {
  return pluginError('divisionByZero', 'division by zero');
}
