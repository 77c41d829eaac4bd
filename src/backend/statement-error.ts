// An error for one statement, as the ErrorResponse body the client gets (a shard's own, or the proxy's).
import { errorCodes, type ErrorCode } from '../errors.js';
import * as be from '../protocol/backend-messages.js';
import type { Column } from './rows.js';
import { errorFields } from './shard-wire.js';

export class StatementError extends Error {
  /** The columns a shard described before its statement failed there (it failed while running), or null. */
  shardColumns: Column[] | null = null;
  /** The RowDescription the client gets before this error, as PostgreSQL sends one when a query fails while running. */
  columns: Column[] | null = null;

  constructor(readonly body: Buffer) {
    const fields = errorFields(body);
    super(fields.get('M') ?? 'error');
  }

  get sqlstate(): string {
    return errorFields(this.body).get('C') ?? errorCodes.internalError.sqlstate;
  }

  /** The proxy's own error: its SQLSTATE comes from the registry (src/errors.ts). */
  static of(code: ErrorCode, message?: string, hint?: string, detail?: string): StatementError {
    const registered = errorCodes[code];
    return StatementError.relay(registered.sqlstate, message ?? registered.message, hint, detail);
  }

  /** An error whose SQLSTATE another party chose (a server, a plugin, a value conversion): passed on as is. */
  static relay(sqlstate: string, message: string, hint?: string, detail?: string): StatementError {
    return new StatementError(
      be.errorResponse({ severity: 'ERROR', sqlstate, message, hint, detail }).subarray(5),
    );
  }

  static unsupported(message: string, hint?: string): StatementError {
    return StatementError.of('featureNotSupported', message, hint);
  }
}
