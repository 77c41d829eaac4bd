// The times a client session's pool timeouts count from (query_timeout, idle_transaction_timeout), and what is due.

/** How long a server gets to answer a cancel request at least, before its connection is closed. */
const cancelGraceMs = 5_000;

/** What the timeouts call for: cancel the running statement, close a server that ignored the cancel, or drop an idle client. */
export type TimeoutAction = 'cancel' | 'close' | 'disconnect' | null;

export interface PoolTimeouts {
  query_timeout: number;
  idle_transaction_timeout: number;
}

export class SessionClock {
  /** When the client last sent bytes (Date.now()). */
  lastClientAt = Date.now();
  /** When the proxy last wrote to the server for this client and still waits for its reply; 0 when not waiting. */
  waitingSince = 0;
  /** When query_timeout sent the server a cancel request for the statement still running, else 0. */
  cancelSentAt = 0;
  /** The server connection was closed because it answered nothing, not even a cancel. */
  serverSilent = false;

  /** The server answered everything sent so far. */
  answered(): void {
    this.waitingSince = 0;
    this.cancelSentAt = 0;
  }

  /**
   * What is due at `now`. `holding`: the client does not read its replies, which holds the server back (no
   * server's fault); `idleInTransaction`: a transaction is open and nothing of the client's waits.
   */
  due(now: number, pool: PoolTimeouts, holding: boolean, idleInTransaction: boolean): TimeoutAction {
    const { query_timeout: queryTimeout, idle_transaction_timeout: idleTimeout } = pool;
    if (queryTimeout > 0 && this.waitingSince > 0 && !holding) {
      if (this.cancelSentAt === 0 && now - this.waitingSince >= queryTimeout) {
        this.cancelSentAt = now;
        return 'cancel';
      }
      if (this.cancelSentAt > 0 && now - this.cancelSentAt >= Math.max(queryTimeout, cancelGraceMs)) {
        this.serverSilent = true;
        return 'close';
      }
      return null;
    }
    const idle = idleTimeout > 0 && idleInTransaction && this.waitingSince === 0;
    return idle && now - this.lastClientAt >= idleTimeout ? 'disconnect' : null;
  }
}
