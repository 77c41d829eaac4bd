// An error for one statement, as the ErrorResponse body the client gets (a shard's own, or the proxy's).
import * as be from '../protocol/backend-messages.js';
import { errorFields } from './shard-wire.js';

export class StatementError extends Error {
  constructor(readonly body: Buffer) {
    const fields = errorFields(body);
    super(fields.get('M') ?? 'error');
  }

  get sqlstate(): string {
    return errorFields(this.body).get('C') ?? 'XX000';
  }

  static of(sqlstate: string, message: string, hint?: string, detail?: string): StatementError {
    return new StatementError(
      be.errorResponse({ severity: 'ERROR', sqlstate, message, hint, detail }).subarray(5),
    );
  }

  static unsupported(message: string, hint?: string): StatementError {
    return StatementError.of('0A000', message, hint);
  }
}
