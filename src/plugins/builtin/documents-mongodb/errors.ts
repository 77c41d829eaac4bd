// The errors this plugin sends to clients, each with the SQLSTATE PostgreSQL would use.
import { errorCodes, type ErrorCode } from '../../../errors.js';
import { PluginError } from '../../api.js';

export { invalidInput } from '../../pg-input.js';

/** A PluginError with the registry's SQLSTATE for `code`. */
export function pluginError(code: ErrorCode, message: string, hint?: string): PluginError {
  return new PluginError(errorCodes[code].sqlstate, message, hint);
}

/** SQL the plugin cannot translate to MongoDB: says what and what to do instead. */
export function unsupported(what: string, instead: string): PluginError {
  return pluginError('featureNotSupported', `documents plugin: ${what} is not supported; ${instead}`);
}

export function undefinedColumn(name: string, table: string): PluginError {
  return pluginError('undefinedColumn', `column "${name}" does not exist in ${table}`);
}

export function undefinedTable(table: string): PluginError {
  return pluginError('undefinedTable', `relation "${table}" does not exist`);
}

export function groupingError(what: string): PluginError {
  return pluginError(
    'groupingError',
    `${what} must appear in the GROUP BY clause or be used in an aggregate function`,
  );
}
