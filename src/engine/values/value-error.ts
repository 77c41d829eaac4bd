// An error in a value the proxy computes (an overflow in a cast, say), with the SQLSTATE PostgreSQL would give.
import { errorCodes, type ErrorCode } from '../../errors.js';

export class ValueError extends Error {
  readonly sqlstate: string;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.sqlstate = errorCodes[code].sqlstate;
  }
}
