// What the one-shard binding does with each client message on its way to the server: session effects, renames, epochs.
import type { Database } from '../../backend/database.js';
import { ParseKind } from '../../backend/response-relay.js';
import type { ServerConnection } from '../../backend/server-connection.js';
import type { Logger } from '../../logger.js';
import { Frontend } from '../../protocol/codes.js';
import type { StatementInfo } from '../../router/classify.js';
import type { RouteOverride } from '../../router/router.js';
import type { CommitHold } from '../commit-hold.js';
import type { ServerBatch } from '../server-batch.js';
import { commandOf } from '../session-commands.js';
import type { SessionPlugins } from '../session-plugins.js';
import type { SessionPositions } from '../session-positions.js';
import { mayReset, type StatementForwarding } from '../statement-forwarding.js';
import type { TransactionAccess } from '../transaction-access.js';

/** What forwarding a message needs of the one-shard binding. */
export interface ForwardingBinding {
  readonly db: Database;
  readonly log: Logger;
  readonly server: ServerConnection | null;
  readonly serverRole: 'primary' | 'replica';
  readonly transactionMode: boolean;
  readonly txStatus: number;
  readonly positions: SessionPositions;
  readonly commitHold: CommitHold;
  readonly access: TransactionAccess;
  readonly fwd: StatementForwarding;
  readonly batch: ServerBatch;
  readonly pluginSteps: SessionPlugins | null;
  readonly stats: { queries: number };
  readonly startup: Map<string, string>;
  pinned: string | null;
  inBlock: boolean;
  override: RouteOverride;
  settings: Map<string, string>;
  serializable: boolean;
  roundStart: number;
  startRound(info: StatementInfo): void;
}

/** A simple-protocol statement the proxy answers itself, never sent to a server. */
export function isLocal(type: number, info: StatementInfo | null): boolean {
  if (type !== Frontend.Query || !info) return false;
  return (
    info.explainRoute !== undefined ||
    commandOf(info) !== undefined ||
    // Only SET/RESET polyproxy.route itself: RESET ALL and DISCARD ALL reset the override too, but PostgreSQL runs them.
    (info.statementCount === 1 &&
      (info.reason === 'route-override' || info.reason === 'route-override-invalid'))
  );
}

/** Whether the client's settings make every transaction serializable (SET default_transaction_isolation, SET SESSION CHARACTERISTICS, -c). */
export function serializableDefault(settings: Map<string, string>): boolean {
  return /serializable/i.test(settings.get('default_transaction_isolation') ?? '');
}

/** Appends a message to the outgoing batch, renaming prepared statements under transaction pooling. */
export function forwardMessage(
  b: ForwardingBinding,
  type: number,
  buf: Buffer,
  start: number,
  end: number,
  info: StatementInfo | null,
): void {
  const conn = b.server!;
  if (info) {
    if (info.reason === 'ddl' && b.transactionMode) b.fwd.noteSchemaChange(type, buf, start, end, info);
    trackStatement(b, info);
    if (b.roundStart === 0 && b.db.statementMetrics) b.startRound(info);
  }
  switch (type) {
    case Frontend.Query:
      conn.relay.sendEpoch++;
      b.stats.queries++;
      // A simple query drops the unnamed statement, the client's and the server's.
      b.fwd.dropUnnamed(conn);
      if (b.transactionMode && mayReset(info))
        b.fwd.checkResets(conn, buf.toString('utf8', start + 5, end - 1));
      break;
    case Frontend.Sync:
      conn.relay.sendEpoch++;
      conn.relay.roundOpen = false;
      break;
    case Frontend.FunctionCall:
      conn.relay.sendEpoch++;
      break;
    case Frontend.Parse:
      conn.relay.roundOpen = true;
      if (buf[start + 5] === 0) {
        b.pluginSteps?.forgetUnnamed(type);
        return b.fwd.forwardUnnamedParse(conn, buf, start, end, info);
      }
      if (b.transactionMode) return b.fwd.forwardParse(conn, buf, start, end, info);
      break;
    case Frontend.Bind:
      conn.relay.roundOpen = true;
      if (b.pluginSteps && buf[start + 5] === 0) b.pluginSteps.forgetUnnamed(Frontend.Bind);
      if (b.transactionMode) return b.fwd.forwardBind(conn, buf, start, end);
      b.fwd.ensureUnnamedFor(conn, buf, start + 5, end);
      break;
    case Frontend.Describe:
    case Frontend.Close:
      conn.relay.roundOpen = true;
      if (buf[start + 5] === 0x53 && buf[start + 6] === 0 && type === Frontend.Describe)
        b.fwd.ensureUnnamed(conn);
      if (b.transactionMode && buf[start + 5] === 0x53)
        return b.fwd.forwardStatementTarget(conn, type, buf, start, end);
      if (b.transactionMode && type === Frontend.Close)
        conn.relay.trackClose({ epoch: conn.relay.sendEpoch, kind: ParseKind.Client });
      break;
    case Frontend.Execute:
      conn.relay.roundOpen = true;
      break;
  }
  b.batch.pass(buf, start, end);
}

/** Session effects of a statement the server is about to run. */
export function trackStatement(b: ForwardingBinding, info: StatementInfo): void {
  if (info.access === 'write' && b.serverRole === 'primary') b.positions.wroteHere = true;
  b.commitHold.see(info, b.txStatus);
  if (info.pin && !b.pinned) {
    b.pinned = info.pin;
    b.log.debug('client pinned to its server connection', { reason: info.pin });
  }
  b.access.see(info, b.inBlock, b.settings);
  const tx = info.transaction;
  if (tx?.kind === 'begin') b.inBlock = true;
  else if ((tx?.kind === 'commit' || tx?.kind === 'rollback') && !tx.chain) b.inBlock = false;
  if (info.routeOverride) b.override = info.routeOverride;
  if (info.resetAll) {
    b.settings = new Map(b.startup);
    b.server?.session.forgetSettings();
  }
  if (info.sets) trackSets(b, info.sets);
  if (info.sets || info.resetAll) b.serializable = serializableDefault(b.settings);
}

/** SET and RESET of a statement (only statements that have some reach here: no empty list per statement). */
function trackSets(b: ForwardingBinding, sets: NonNullable<StatementInfo['sets']>): void {
  for (const s of sets) {
    if (s.sql === null) b.settings.delete(s.name);
    else b.settings.set(s.name, s.sql);
    if (s.sql === null) b.server?.session.settingReset(s.name);
    else b.server?.session.settingApplied(s.name, s.sql);
  }
}
