// An error in a value the proxy computes (an overflow in a cast, say), with the SQLSTATE PostgreSQL would give.
export class ValueError extends Error {
  constructor(
    readonly sqlstate: string,
    message: string,
  ) {
    super(message);
  }
}
