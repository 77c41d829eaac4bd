// An error for one statement, as the ErrorResponse body the client gets (a shard's own, or the proxy's).
import { errorCodes, type ErrorCode } from '../errors.js';
import * as be from '../protocol/backend-messages.js';
import { errorFields } from './shard-wire.js';

export class StatementError extends Error {
  constructor(readonly body: Buffer) {
    const fields = errorFields(body);
    super(fields.get('M') ?? 'error');
  }

  get sqlstate(): string {
    return errorFields(this.body).get('C') ?? errorCodes.internalError.sqlstate;
  }

  /** The proxy's own error: its SQLSTATE comes from the registry (src/errors.ts). */
  static of(code: ErrorCode, message?: string, hint?: string, detail?: string): StatementError;
  /**
   * @deprecated pass a registry code (src/errors.ts), or relay() a SQLSTATE that came from elsewhere.
   * Kept only while client-session.ts, sharded-session.ts and src/pipeline/ still pass SQLSTATEs.
   */
  static of(sqlstate: string, message: string, hint?: string, detail?: string): StatementError;
  static of(code: string, message?: string, hint?: string, detail?: string): StatementError {
    const registered = Object.hasOwn(errorCodes, code) ? errorCodes[code as ErrorCode] : undefined;
    const sqlstate = registered?.sqlstate ?? code;
    return StatementError.relay(sqlstate, message ?? registered?.message ?? 'error', hint, detail);
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
