// The errors this plugin sends to clients: refusals, bad input, and Cassandra's own errors with the SQLSTATE PostgreSQL would use.
import cassandra from 'cassandra-driver';
import { errorCodes, type ErrorCode } from '../../../errors.js';
import { PluginError } from '../../api.js';

export { invalidInput } from '../../pg-input.js';

export function pluginError(code: ErrorCode, message: string, hint?: string): PluginError {
  return new PluginError(errorCodes[code].sqlstate, message, hint);
}

/** SQL the plugin will not send to Cassandra: says what and what to do instead. */
export function unsupported(what: string, instead: string): PluginError {
  return pluginError('featureNotSupported', `widecolumn plugin: ${what}; ${instead}`);
}

export function outOfRange(type: string): PluginError {
  return pluginError('numericValueOutOfRange', `value out of range for type ${type}`);
}

export function undefinedColumn(name: string, table: string): PluginError {
  return pluginError('undefinedColumn', `column "${name}" of relation "${table}" does not exist`);
}

export function undefinedTable(table: string): PluginError {
  return pluginError('undefinedTable', `relation "${table}" does not exist`);
}

const codes = cassandra.types.responseErrorCodes;

/** Cassandra's response error codes (native protocol v4/v5) to SQLSTATEs. */
const byResponseCode = new Map<number, string>([
  [codes.syntaxError, '42601'],
  [codes.invalid, '42000'],
  [codes.unauthorized, '42501'],
  [codes.badCredentials, '28P01'],
  [codes.alreadyExists, '42P07'],
  [codes.configError, 'F0000'],
  [codes.unavailableException, '08006'],
  [codes.overloaded, '53000'],
  [codes.isBootstrapping, '57P03'],
  [codes.readTimeout, '57014'],
  [codes.writeTimeout, '57014'],
  [codes.readFailure, '58000'],
  [codes.writeFailure, '58000'],
  [codes.functionFailure, '22000'],
  [codes.truncateError, '58000'],
  [codes.protocolError, '08P01'],
  [codes.serverError, 'XX000'],
]);

/** True when the driver could not reach any node: the statement fails, the cluster is reconnected later. */
export function isUnreachable(err: unknown): boolean {
  return (
    err instanceof cassandra.errors.NoHostAvailableError ||
    err instanceof cassandra.errors.OperationTimedOutError ||
    err instanceof cassandra.errors.BusyConnectionError
  );
}

/** Our own PluginErrors pass through; the driver's and Cassandra's are translated. */
export function toPluginError(err: unknown): PluginError {
  if (err instanceof PluginError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isUnreachable(err))
    return pluginError(
      'connectionFailure',
      `Cassandra is unavailable: ${message}`,
      'Check that Cassandra is running and plugins.widecolumn.contact_points points at it.',
    );
  if (err instanceof cassandra.errors.ResponseError) {
    const sqlstate = byResponseCode.get(err.code) ?? errorCodes.internalError.sqlstate;
    return new PluginError(
      sqlstate,
      `Cassandra: ${message}`,
      `Cassandra error code 0x${err.code.toString(16)}.`,
    );
  }
  return pluginError('internalError', `widecolumn plugin: ${message}`);
}
