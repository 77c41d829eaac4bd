// Gives a server connection back to its pool once its client has gone: rolled back and reset first where needed.
import type { Logger } from '../logger.js';
import type { Pool } from './pool.js';
import type { ServerConnection } from './server-connection.js';

export interface ResetSteps {
  /** The client left inside a transaction. */
  rollback: boolean;
  /** The session's state must go too (a pinned or session-pooled client): pool.reset_query, e.g. DISCARD ALL. */
  resetQuery: string | null;
}

/** Runs the steps one by one and releases the connection, or destroys it when a step fails. */
export function resetAndRelease(conn: ServerConnection, pool: Pool, steps: ResetSteps, log: Logger): void {
  const sqls = [...(steps.rollback ? ['ROLLBACK'] : []), ...(steps.resetQuery ? [steps.resetQuery] : [])];
  if (sqls.length === 0) {
    pool.release(conn);
    return;
  }
  // One statement per query: DISCARD ALL refuses to run inside the implicit block of a multi-statement query.
  const run = async () => {
    for (const sql of sqls) {
      const error = await conn.query(sql);
      if (error || conn.closed) return error ?? 'connection closed';
    }
    return undefined;
  };
  void run().then((error) => {
    if (error) {
      log.warn('could not reset server connection; closing it', { error });
      pool.destroy(conn);
      return;
    }
    if (steps.resetQuery) {
      // What the proxy knew of the server session is gone with it.
      conn.session.discarded();
    }
    pool.release(conn);
  });
}
