// A client's statements on whichever server connection runs them: named ones renamed to shared server-side
// names and prepared where missing, the unnamed one made the client's own before its Bind or Describe.
import type { ServerConnection } from '../backend/server-connection.js';
import { ParseKind } from '../backend/response-relay.js';
import { parseSent, unnamedParseSent } from '../backend/server-session-state.js';
import type { SharedStatements } from '../backend/shared-statements.js';
import { errorCodes } from '../errors.js';
import * as be from '../protocol/backend-messages.js';
import { Frontend } from '../protocol/codes.js';
import { readParse } from '../protocol/extended-messages.js';
import * as fe from '../protocol/frontend-messages.js';
import { ownedCopy, sameBytes } from '../net/socket-input.js';
import type { StatementInfo } from '../router/classify.js';
import { changesResultTypes, deallocateName, sessionResetKind } from '../router/session-state.js';
import {
  PreparedStatements,
  cstringEnd,
  noopClose,
  renameParse,
  renameBind,
  renameTarget,
  standInClose,
  standInParse,
  type ClientStatement,
} from './prepared-statements.js';
import { ownDeallocate, type CommandInfo } from './session-commands.js';
import type { ServerBatch } from './server-batch.js';

/**
 * The client's unnamed statement, as its Parse (owned bytes): sent again before a Bind or Describe that
 * reaches a server connection holding another unnamed statement (transaction pooling, a cached answer).
 */
interface UnnamedStatement {
  parse: Buffer;
  /** A DEALLOCATE of a client statement, rewritten to drop a throwaway server statement made first. */
  deallocates?: true;
  decoded?: { sql: string; paramTypes: number[] };
}

/** Whether a statement may be DEALLOCATE ALL or DISCARD ALL: only then is its text looked at again. */
export function mayReset(info: StatementInfo | null): boolean {
  return !info || info.reason === 'deallocate' || info.resetAll === true || info.statementCount > 1;
}

export class StatementForwarding {
  readonly statements = new PreparedStatements();
  /** Classification of the last unnamed Parse, for the Bind that follows it. */
  unnamedInfo: StatementInfo | null = null;
  /** The client's unnamed statement; null when it has none (never parsed, failed, or dropped by a Query). */
  private unnamed: UnnamedStatement | null = null;

  constructor(
    private readonly shared: SharedStatements,
    private readonly transactionMode: boolean,
    private readonly batch: ServerBatch,
    private readonly stats: { queries: number },
  ) {}

  /** A simple Query drops the unnamed statement, the client's and the server's. */
  dropUnnamed(conn: ServerConnection): void {
    this.unnamed = null;
    conn.session.unnamedDropped();
  }

  /** A cached answer stood in for PostgreSQL's to the client's unnamed Parse: keep it for a later Bind. */
  adoptUnnamed(parse: Buffer, info: StatementInfo | null): void {
    const { sql, paramTypes } = readParse(parse);
    this.unnamedInfo = info;
    this.unnamed = { parse, decoded: { sql, paramTypes } };
  }

  /**
   * DEALLOCATE of a statement the client prepared at protocol level: under transaction pooling the server
   * knows it by another name, shared with other clients, so the proxy forgets the client's name itself.
   */
  deallocating(info: StatementInfo, sql: string): StatementInfo {
    if (!this.transactionMode || info.statementCount !== 1 || this.statements.size === 0) return info;
    const name = deallocateName(sql);
    if (name === null || !this.statements.get(name)) return info;
    const own: CommandInfo = { ...info, command: { kind: 'deallocate', name } };
    return own;
  }

  /**
   * The client's unnamed Parse: recorded (the same bytes as last time are not copied again), so a later
   * Bind or Describe on another server connection can define it there first.
   */
  forwardUnnamedParse(
    conn: ServerConnection,
    buf: Buffer,
    start: number,
    end: number,
    info: StatementInfo | null,
  ): void {
    this.unnamedInfo = info;
    this.stats.queries++;
    const nameEnd = start + 5;
    const queryEnd = cstringEnd(buf, nameEnd + 1, end);
    if (this.transactionMode && queryEnd > 0 && mayReset(info))
      this.checkResets(conn, buf.toString('utf8', nameEnd + 1, queryEnd));
    const deallocate =
      this.transactionMode && queryEnd > 0 && info?.reason === 'deallocate' && this.statements.size > 0
        ? this.deallocating(info, buf.toString('utf8', nameEnd + 1, queryEnd))
        : null;
    const name = deallocate && ownDeallocate(deallocate);
    let stmt: UnnamedStatement;
    if (name) {
      // The server knows the client's statement by a shared name: drop a throwaway statement instead.
      this.statements.forget(name);
      stmt = { parse: throwawayDeallocateParse, deallocates: true };
    } else {
      const last = this.unnamed;
      stmt = last && sameBytes(buf, start, end, last.parse) ? last : { parse: ownedCopy(buf, start, end) };
    }
    this.unnamed = stmt;
    if (stmt.deallocates) this.prepareThrowaway(conn);
    // Tracked too: the relay pairs every ParseComplete with the Parse it answers.
    unnamedParseSent(conn, stmt, ParseKind.Client, () => {
      if (this.unnamed === stmt) this.unnamed = null;
    });
    if (stmt.deallocates) this.batch.push(stmt.parse);
    else this.batch.pass(buf, start, end);
  }

  /** Bind of the unnamed statement (`pos` is where its portal name starts). */
  ensureUnnamedFor(conn: ServerConnection, buf: Buffer, pos: number, end: number): void {
    const portalEnd = cstringEnd(buf, pos, end);
    if (portalEnd >= 0 && portalEnd + 1 < end && buf[portalEnd + 1] === 0) this.ensureUnnamed(conn);
  }

  /**
   * Makes the server's unnamed statement the client's before a Bind or Describe of it: PostgreSQL would
   * otherwise run another client's statement with this client's values.
   */
  ensureUnnamed(conn: ServerConnection): void {
    const stmt = this.unnamed;
    if (conn.session.unnamedOwner === stmt) return;
    const epoch = conn.relay.sendEpoch;
    if (!stmt) {
      // The client has none: the server must have none either, so it answers 26000 as PostgreSQL would.
      conn.relay.trackClose({ epoch, kind: ParseKind.Injected });
      conn.session.unnamedDropped();
      this.batch.push(closeUnnamed);
      return;
    }
    if (stmt.deallocates) this.prepareThrowaway(conn);
    if (unnamedParseSent(conn, stmt, ParseKind.Injected)) this.batch.push(stmt.parse);
  }

  /** The throwaway statement a rewritten DEALLOCATE drops (any earlier one closed first). */
  prepareThrowaway(conn: ServerConnection): void {
    const epoch = conn.relay.sendEpoch;
    conn.relay.trackClose({ epoch, kind: ParseKind.Injected });
    conn.relay.trackParse({ epoch, kind: ParseKind.Injected });
    this.batch.push(throwawayClose);
    this.batch.push(throwawayParse);
  }

  /** DDL that may change the result type of prepared statements reading its tables starts a generation. */
  noteSchemaChange(type: number, buf: Buffer, start: number, end: number, info: StatementInfo): void {
    const sql =
      type === Frontend.Query
        ? buf.toString('utf8', start + 5, end - 1)
        : type === Frontend.Parse
          ? readParse(buf.subarray(start, end)).sql
          : null;
    if (sql !== null && changesResultTypes(sql)) this.shared.invalidate(info.objects?.tables ?? null);
  }

  forwardParse(
    conn: ServerConnection,
    buf: Buffer,
    start: number,
    end: number,
    info: StatementInfo | null,
  ): void {
    const nameEnd = cstringEnd(buf, start + 5, end);
    if (nameEnd < 0) return this.batch.pass(buf, start, end);
    this.stats.queries++;
    const queryEnd = cstringEnd(buf, nameEnd + 1, end);
    if (queryEnd > 0 && mayReset(info)) this.checkResets(conn, buf.toString('utf8', nameEnd + 1, queryEnd));
    const epoch = conn.relay.sendEpoch;
    const name = buf.toString('utf8', start + 5, nameEnd);
    const existing = this.statements.get(name);
    if (existing) {
      // PostgreSQL refuses to redefine a name (42P05): send the Parse under the existing server-side
      // name, present on this connection, so the server answers with that error in the right place.
      this.ensurePrepared(conn, existing.serverName, existing.parse);
      conn.relay.trackParse({ epoch, kind: ParseKind.Client });
      this.batch.push(renameParse(buf, nameEnd, end, existing.serverName));
      return;
    }
    const stmt = this.statements.define(name, buf, start, nameEnd, end, info, this.shared.generation);
    if (conn.session.preparedHas(stmt.serverName)) {
      // The connection has the statement already (another client's copy, which that client may be using):
      // answer with a stand-in, so neither client's statement changes under it.
      conn.relay.trackClose({ epoch, kind: ParseKind.Injected });
      conn.relay.trackParse({ epoch, kind: ParseKind.Client });
      this.batch.push(standInClose);
      this.batch.push(standInParse);
      return;
    }
    const onFail = () => this.statements.forget(name, stmt);
    parseSent(conn, stmt.serverName, ParseKind.Client, () => this.shared.parsed(stmt.serverName), onFail);
    this.batch.push(stmt.parse);
  }

  forwardBind(conn: ServerConnection, buf: Buffer, start: number, end: number): void {
    const portalEnd = cstringEnd(buf, start + 5, end);
    const stmtEnd = portalEnd < 0 ? -1 : cstringEnd(buf, portalEnd + 1, end);
    if (stmtEnd === portalEnd + 1) this.ensureUnnamed(conn);
    if (stmtEnd <= portalEnd + 1) return this.batch.pass(buf, start, end);
    const stmt = this.statements.get(buf.toString('utf8', portalEnd + 1, stmtEnd));
    if (!stmt) return this.batch.pass(buf, start, end);
    this.batch.push(renameBind(buf, start, portalEnd, stmtEnd, end, this.preparedName(conn, stmt)));
  }

  forwardStatementTarget(
    conn: ServerConnection,
    type: number,
    buf: Buffer,
    start: number,
    end: number,
  ): void {
    const nameEnd = cstringEnd(buf, start + 6, end);
    if (nameEnd <= start + 6) return this.batch.pass(buf, start, end);
    const name = buf.toString('utf8', start + 6, nameEnd);
    const stmt = this.statements.get(name);
    if (!stmt) {
      if (type === Frontend.Close)
        conn.relay.trackClose({ epoch: conn.relay.sendEpoch, kind: ParseKind.Client });
      return this.batch.pass(buf, start, end);
    }
    if (type === Frontend.Close) {
      // Other clients may share the server-side statement: only this client's name goes away.
      this.statements.forget(name);
      conn.relay.trackClose({ epoch: conn.relay.sendEpoch, kind: ParseKind.Client });
      this.batch.push(noopClose);
      return;
    }
    this.batch.push(renameTarget(type, this.preparedName(conn, stmt)));
  }

  /**
   * The name a Bind or Describe of a client statement uses on this connection, prepared there first when
   * it lacks it. A statement parsed before a schema change of a table it reads is not prepared anew: its
   * result type may have changed, and PostgreSQL refuses that with 0A000 rather than return rows of
   * another shape. So it goes to a name no connection has, and that error becomes 0A000 (rewriteError).
   */
  preparedName(conn: ServerConnection, stmt: ClientStatement): string {
    if (conn.session.preparedHas(stmt.serverName)) return stmt.serverName;
    if (this.shared.changedSince(stmt.generation, stmt.info?.objects?.tables))
      return staleStatementPrefix + stmt.serverName;
    this.ensurePrepared(conn, stmt.serverName, stmt.parse);
    return stmt.serverName;
  }

  /** DEALLOCATE ALL / DISCARD ALL remove every statement on the server, this client's included. */
  checkResets(conn: ServerConnection, sql: string): void {
    const reset = sessionResetKind(sql);
    if (!reset) return;
    if (reset === 'discard') conn.session.discarded();
    else conn.session.forgetPrepared();
    this.statements.clear();
  }

  /** Prepares a statement on this connection first if it lacks it; its ParseComplete is hidden. */
  ensurePrepared(conn: ServerConnection, serverName: string, parse: Buffer): void {
    if (conn.session.preparedHas(serverName)) return;
    if (parseSent(conn, serverName, ParseKind.Injected, () => this.shared.parsed(serverName)))
      this.batch.push(parse);
  }

  /** The client's unnamed statement's text and parameter types, decoded once. */
  unnamedDecoded(): { sql: string; paramTypes: number[] } | null {
    const u = this.unnamed;
    if (!u || u.deallocates) return null;
    if (!u.decoded) {
      const parse = readParse(u.parse);
      u.decoded = { sql: parse.sql, paramTypes: parse.paramTypes };
    }
    return u.decoded;
  }

  /** Errors about a server-side statement name show the client's own name, as PostgreSQL would. */
  rewriteError(body: Buffer): Buffer | null {
    if (body.indexOf('"pp_') < 0) return null;
    if (body.indexOf(`"${staleStatementPrefix}`) >= 0) return staleStatementError;
    let text = body.toString();
    for (const [name, stmt] of this.statements.entries())
      text = text.replaceAll(`"${stmt.serverName}"`, `"${name}"`);
    return Buffer.from(text);
  }
}

/** Server names that no connection has: a Bind of a client statement whose result type may have changed. */
const staleStatementPrefix = 'pp_stale_';
/** What such a Bind answers, as PostgreSQL does for a statement whose result type changed. */
const staleStatementError = be
  .errorResponse({
    severity: 'ERROR',
    sqlstate: errorCodes.featureNotSupported.sqlstate,
    message: 'cached plan must not change result type',
    hint: 'a table this statement reads changed since it was prepared: prepare it again',
  })
  .subarray(5);

/** Close of the unnamed statement, whose CloseComplete the client never sees. */
const closeUnnamed = fe.closeStatement('');
/** A statement prepared only to be dropped by a client's DEALLOCATE, rewritten to name it. */
const throwawayName = 'pp_deallocate';
const throwawayClose = fe.closeStatement(throwawayName);
const throwawayParse = fe.parse(throwawayName, 'SELECT');
const throwawayDeallocateParse = fe.parse('', `DEALLOCATE ${throwawayName}`);
