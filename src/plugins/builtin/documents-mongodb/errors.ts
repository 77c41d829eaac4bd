// The errors this plugin sends to clients, each with the SQLSTATE PostgreSQL would use.
import { PluginError } from '../../api.js';

export { invalidInput } from '../../pg-input.js';

/** SQL the plugin cannot translate to MongoDB: says what and what to do instead. */
export function unsupported(what: string, instead: string): PluginError {
  return new PluginError('0A000', `documents plugin: ${what} is not supported; ${instead}`);
}

export function undefinedColumn(name: string, table: string): PluginError {
  return new PluginError('42703', `column "${name}" does not exist in ${table}`);
}

export function undefinedTable(table: string): PluginError {
  return new PluginError('42P01', `relation "${table}" does not exist`);
}

export function groupingError(what: string): PluginError {
  return new PluginError(
    '42803',
    `${what} must appear in the GROUP BY clause or be used in an aggregate function`,
  );
}
