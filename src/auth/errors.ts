// Error type for the sans-I/O authentication code: a malformed peer message or a failed check.
import type { ErrorCode } from '../errors.js';

/**
 * Raised by the SCRAM/MD5 helpers. `code` names the entry in src/errors.ts the caller should report,
 * so the front end can turn it into a ProxyError without string matching: malformed messages are
 * protocol violations, a server that fails to prove itself is an authentication failure.
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    message: string,
    readonly code: Extract<ErrorCode, 'protocolViolation' | 'invalidPassword'> = 'protocolViolation',
  ) {
    super(message);
  }
}
