// The one-shard binding's edges: a Parse acknowledged without a server, a failed attach, the pool's timeouts, a lost server, the end.
import type { Database } from '../../backend/database.js';
import type { Pool } from '../../backend/pool.js';
import type { RelayTarget } from '../../backend/response-relay.js';
import type { RouteChoice } from '../../backend/shard.js';
import { settingsDiff } from '../../backend/server-settings.js';
import { BackendError, type ServerConnection } from '../../backend/server-connection.js';
import { resetAndRelease } from '../../backend/server-reset.js';
import { ProxyError, errorCodes } from '../../errors.js';
import type { Logger } from '../../logger.js';
import * as be from '../../protocol/backend-messages.js';
import { Frontend, TxStatus } from '../../protocol/codes.js';
import { cstringEnd } from '../prepared-statements.js';
import type { ServerAttach } from '../server-attach.js';
import type { SessionClock } from '../session-clock.js';
import type { Queued } from '../session-plugins.js';
import type { SessionPositions } from '../session-positions.js';
import type { StatementForwarding } from '../statement-forwarding.js';
import type { SessionHost } from './binding.js';

/** What the edges need of the one-shard binding. */
export interface BindingEdges {
  readonly host: SessionHost;
  readonly db: Database;
  readonly log: Logger;
  readonly transactionMode: boolean;
  readonly pinned: string | null;
  readonly queue: Queued[];
  readonly fwd: StatementForwarding;
  readonly attach: ServerAttach;
  readonly stats: { queries: number };
  readonly txStatus: number;
  readonly positions: SessionPositions;
  readonly settings: Map<string, string>;
  readonly closed: boolean;
  server: ServerConnection | null;
  serverPool: Pool | null;
  serverRole: 'primary' | 'replica';
  holdingServer: ServerConnection | null;
  pump(): void;
}

/** Attaches a server connection: its replies come to the binding, and the client's settings are applied there. */
export function bindServer(
  b: BindingEdges & RelayTarget,
  conn: ServerConnection,
  pool: Pool,
  choice: RouteChoice,
): void {
  choice.count++;
  b.server = conn;
  b.serverPool = pool;
  b.serverRole = choice.decision.role;
  b.positions.wroteHere = false;
  conn.relay.target = b;
  b.host.stats.transactions++;
  const sql = settingsDiff(b.settings, conn);
  if (!sql) return;
  conn.query(sql).then((error) => {
    if (!error) return;
    // Forget what was assumed applied, so the next transaction tries again.
    conn.session.forgetSettings();
    b.log.warn('could not apply session settings', { error });
  });
}

/** Gives the server connection back between transactions, once the client has taken every reply. */
export function releaseBetween(b: BindingEdges): void {
  const conn = b.server;
  const pool = b.serverPool;
  if (!conn || !pool || b.pinned || b.holdingServer || b.txStatus !== TxStatus.Idle) return;
  if (conn.relay.busy()) return;
  b.server = null;
  b.serverPool = null;
  if (b.positions.mustLearn()) {
    b.positions.learn(conn, pool, () => {
      if (b.queue.length > 0 && !b.closed) b.pump();
    });
    return;
  }
  pool.release(conn);
}

/**
 * A named Parse followed by Sync, of a statement that parsed before on this database, is acknowledged
 * without waiting for a server connection; it is prepared on whichever connection runs its Bind. Drivers
 * that prepare synchronously (libpq's PQprepare, pgbench -M prepared) would otherwise hold every
 * connection their other clients need, when there are more clients than server connections.
 */
export function acknowledgeParse(b: BindingEdges): 'wait' | 'done' | 'no' {
  const m = b.queue[0];
  if (!b.transactionMode || b.pinned || m.type !== Frontend.Parse || m.buf[5] === 0) return 'no';
  const next = b.queue[1];
  if (next && next.type !== Frontend.Sync) return 'no';
  const nameEnd = cstringEnd(m.buf, 5, m.buf.length);
  if (nameEnd < 0) return 'no';
  const name = m.buf.toString('utf8', 5, nameEnd);
  if (b.fwd.statements.get(name)) return 'no';
  const generation = b.db.statements.generation;
  const stmt = b.fwd.statements.define(name, m.buf, 0, nameEnd, m.buf.length, m.info, generation);
  if (!b.db.statements.isKnown(stmt.serverName)) {
    b.fwd.statements.forget(name, stmt);
    return 'no';
  }
  if (!next) {
    // Wait for the rest of the round: a Sync keeps this path, anything else goes to a server.
    b.fwd.statements.forget(name, stmt);
    return 'wait';
  }
  b.queue.splice(0, 2);
  b.attach.routed = null;
  b.stats.queries++;
  b.host.socket.write(Buffer.concat([be.parseComplete, be.readyForQuery(b.txStatus)]));
  return 'done';
}

/** The replies to queued requests no server could be had for: one ErrorResponse per round, each ended by ReadyForQuery. */
export function failedReplies(queued: readonly Queued[], err: Error, txStatus: number): Buffer {
  const sqlstate = err instanceof BackendError ? err.sqlstate : errorCodes.connectionFailure.sqlstate;
  const error = be.errorResponse({ severity: 'ERROR', sqlstate, message: err.message });
  const parts: Buffer[] = [];
  let erred = false;
  for (const m of queued) {
    if (!erred) parts.push(error);
    erred = true;
    if (m.type === Frontend.Sync || m.type === Frontend.Query) {
      parts.push(be.readyForQuery(txStatus));
      erred = false;
    }
  }
  return Buffer.concat(parts);
}

/**
 * The pool's timeouts, checked about once a second: a statement running past query_timeout is cancelled
 * (and its server connection closed when even the cancel gets no answer: a frozen server must not hold
 * its clients forever); a client idle in a transaction past idle_transaction_timeout is disconnected, its
 * transaction rolled back and its server connection freed.
 */
export function checkForwardTimeouts(b: BindingEdges, now: number): void {
  const conn = b.server;
  if (!conn || b.host.closed) return;
  const idle = b.txStatus !== TxStatus.Idle && b.queue.length === 0;
  switch (b.host.clock.due(now, b.db.config.pool, b.holdingServer !== null, idle)) {
    case 'cancel':
      b.log.warn('statement ran past query_timeout; cancelling it', { pid: conn.pid });
      b.host.hooks.cancelServer(conn);
      return;
    case 'close':
      b.log.warn('server answered neither the statement nor its cancel; closing its connection', {
        pid: conn.pid,
      });
      conn.close();
      return;
    case 'disconnect':
      b.log.info('client idle in transaction past idle_transaction_timeout; disconnecting it');
      b.host.terminate(new ProxyError('idleInTransactionTimeout', undefined, undefined, 'FATAL'));
  }
}

/** The server connection died under the client: its transaction state is gone with it. */
export function serverLost(b: BindingEdges): void {
  const conn = b.server;
  if (!conn) return;
  b.server = null;
  if (conn.relay.fatalRelayed) {
    // The client already has the server's own FATAL: a second error would only confuse its driver.
    b.host.socket.end();
    b.host.gone();
    return;
  }
  b.host.terminate(lostError(b.host.clock));
}

function lostError(clock: SessionClock): ProxyError {
  return clock.serverSilent
    ? new ProxyError('serverUnresponsive', undefined, 'reconnect and retry; check the server', 'FATAL')
    : new ProxyError('backendUnavailable', 'server connection lost; reconnect and retry', undefined, 'FATAL');
}

/** The client is gone: its server connection goes back clean, or is closed when it is mid-statement. */
export function releaseOnGone(b: BindingEdges): void {
  const conn = b.server;
  const pool = b.serverPool;
  if (!conn || !pool) return;
  b.server = null;
  b.serverPool = null;
  conn.relay.target = null;
  if (b.holdingServer) {
    // The client socket is destroyed, so its pending writes no longer point into the server's buffer.
    b.holdingServer = null;
    conn.resume();
  }
  if (conn.relay.busy() || conn.closed) {
    b.host.hooks.cancelServer(conn);
    pool.destroy(conn);
    return;
  }
  const rollback = b.txStatus !== TxStatus.Idle;
  const resetQuery = b.pinned ? b.db.config.pool.reset_query : null;
  resetAndRelease(conn, pool, { rollback, resetQuery }, b.log);
}
