// Statements a plugin answers: the client's prepared statements and portals for them, and the replies the proxy writes itself.
import type { ClaimedBy, PluginHost } from '../plugins/host.js';
import { messageOf } from '../plugins/host.js';
import type { ResultColumn, Row, SessionView, Statement, StatementResult } from '../plugins/api.js';
import { PluginError } from '../plugins/api.js';
import { readOnlyRefusal, sqlWriteCommand } from '../plugins/read-only.js';
import { ProxyError, errorCodes } from '../errors.js';
import type { Logger } from '../logger.js';
import { Frontend } from '../protocol/codes.js';
import * as be from '../protocol/backend-messages.js';
import { Oid } from '../protocol/type-oids.js';
import { readBind, readExecute, readParse, readTarget } from '../protocol/extended-messages.js';
import { findInTree } from '../router/ast-walk.js';
import type { StatementInfo } from '../router/classify.js';
import { parseSql, type StatementNode } from '../sql/parser.js';
import { cstringEnd } from './prepared-statements.js';
import {
  dataRow,
  paramText,
  parameterDescription,
  portalSuspended,
  rowDescription,
  type ClientError,
} from './plugin-replies.js';

export type { ClientError } from './plugin-replies.js';

interface PluginStatement {
  sql: string;
  ast: StatementNode;
  info: StatementInfo;
  claim: ClaimedBy;
  paramTypes: number[];
  paramCount: number;
  /** Parameter types from the plugin's Describe, asked once a binary value comes for a type the client left open. */
  described?: readonly number[];
}

interface Portal {
  stmt: PluginStatement;
  params: (string | null)[];
  resultFormats: number[];
  /** Where a result stands after an Execute with a row limit stopped (PortalSuspended). */
  pending?: Pending;
}

interface Pending {
  readonly result: StatementResult;
  /** The page being sent (the result's rows, then each of its further pages in turn) and the next row in it. */
  rows: readonly Row[];
  next: number;
  /** An Execute already stopped at its row limit: the last one counts only its own rows, as PostgreSQL does. */
  resumed: boolean;
}

export class PluginStatements {
  private readonly statements = new Map<string, PluginStatement>();
  private readonly portals = new Map<string, Portal>();

  constructor(
    private readonly host: PluginHost,
    private readonly log: Logger,
  ) {}

  /** Whether a message belongs to a plugin's statement or portal rather than to PostgreSQL. */
  owns(type: number, buf: Buffer, start: number, end: number, info: StatementInfo | null): boolean {
    switch (type) {
      case Frontend.Query:
      case Frontend.Parse:
        return info !== null && this.host.claimFor(info.objects) !== null;
      case Frontend.Bind: {
        if (this.statements.size === 0) return false;
        const portalEnd = cstringEnd(buf, start + 5, end);
        const stmtEnd = portalEnd < 0 ? -1 : cstringEnd(buf, portalEnd + 1, end);
        return stmtEnd >= 0 && this.statements.has(buf.toString('utf8', portalEnd + 1, stmtEnd));
      }
      case Frontend.Describe:
      case Frontend.Close: {
        const nameEnd = cstringEnd(buf, start + 6, end);
        if (nameEnd < 0) return false;
        const name = buf.toString('utf8', start + 6, nameEnd);
        return buf[start + 5] === 0x53 ? this.statements.has(name) : this.portals.has(name);
      }
      case Frontend.Execute: {
        if (this.portals.size === 0) return false;
        const nameEnd = cstringEnd(buf, start + 5, end);
        return nameEnd >= 0 && this.portals.has(buf.toString('utf8', start + 5, nameEnd));
      }
      default:
        return false;
    }
  }

  /** PostgreSQL took over the unnamed statement or portal: the plugin's one is gone. */
  forgetUnnamed(type: number): void {
    if (type === Frontend.Parse) this.statements.delete('');
    if (type === Frontend.Bind) this.portals.delete('');
  }

  /** Whether a client statement name is a plugin's (so PostgreSQL must not be asked to define it again). */
  hasStatement(name: string): boolean {
    return this.statements.has(name);
  }

  /** Answers one simple-protocol statement: the replies without ReadyForQuery. Throws a ClientError. */
  async query(sql: string, info: StatementInfo, session: SessionView): Promise<Buffer> {
    const stmt = this.prepare(sql, info, []);
    refuseReadOnlyWrite(stmt, session);
    const view = this.view(stmt, [], [], session);
    const result = await this.call(stmt, 'execute', () => stmt.claim.handler.execute(view));
    const columns = result.columns;
    const parts = columns ? [rowDescription(columns, [])] : [];
    let count = 0;
    for (let rows: readonly Row[] | null = result.rows; rows; rows = await this.nextPage(stmt, result)) {
      parts.push(...this.dataRows(stmt, columns, rows, [], 0, rows.length));
      count += rows.length;
    }
    parts.push(be.commandComplete(result.more ? `SELECT ${count}` : result.command));
    return Buffer.concat(parts);
  }

  /** Answers one extended-protocol message for a plugin's statement. Throws a ClientError. */
  async message(
    type: number,
    buf: Buffer,
    info: StatementInfo | null,
    session: SessionView,
  ): Promise<Buffer> {
    switch (type) {
      case Frontend.Parse: {
        const parse = readParse(buf);
        if (parse.name !== '' && this.statements.has(parse.name))
          throw clientError(
            new ProxyError('duplicateStatement', `prepared statement "${parse.name}" already exists`),
          );
        this.statements.set(parse.name, this.prepare(parse.sql, info!, parse.paramTypes));
        return be.parseComplete;
      }
      case Frontend.Bind: {
        const bind = readBind(buf);
        const stmt = this.statements.get(bind.statement)!;
        const openBinary = bind.params.some(
          (v, i) => v !== null && bind.paramFormats[i] === 1 && !stmt.paramTypes[i],
        );
        // As PostgreSQL infers an open type from the statement, a binary value (a Buffer for a blob) is read as that type.
        if (openBinary && !stmt.described) {
          const view = this.view(stmt, [], [], session);
          const description = await this.call(stmt, 'describe', () => stmt.claim.handler.describe(view));
          stmt.described = description.params ?? [];
        }
        const params = bind.params.map((value, i) =>
          paramText(value, bind.paramFormats[i], stmt.paramTypes[i] || (stmt.described?.[i] ?? 0)),
        );
        this.portals.set(bind.portal, { stmt, params, resultFormats: bind.resultFormats });
        return be.bindComplete;
      }
      case Frontend.Describe:
        return this.describe(readTarget(buf), session);
      case Frontend.Execute:
        return this.execute(readExecute(buf), session);
      case Frontend.Close: {
        const target = readTarget(buf);
        if (target.kind === 'S') this.statements.delete(target.name);
        else this.portals.delete(target.name);
        return be.closeComplete;
      }
      default:
        return Buffer.alloc(0);
    }
  }

  /** EXPLAIN ROUTE's text for a claimed statement. Throws a ClientError. */
  async explain(sql: string, info: StatementInfo, session: SessionView): Promise<string> {
    const stmt = this.prepare(sql, info, []);
    const view = this.view(stmt, [], [], session);
    const handler = stmt.claim.handler;
    const detail = handler.explain
      ? await this.call(stmt, 'explain', async () => handler.explain!(view))
      : '';
    return `plugin=${stmt.claim.plugin}${detail ? ` ${detail}` : ''}`;
  }

  private prepare(sql: string, info: StatementInfo, paramTypes: number[]): PluginStatement {
    const found = this.host.claimFor(info.objects);
    if (found && 'mixed' in found) throw clientError(new ProxyError('featureNotSupported', found.mixed));
    const claim = found;
    const parsed = parseSql(sql);
    if (!claim || !parsed.ok || parsed.statements.length !== 1) {
      throw clientError(
        new ProxyError(
          'featureNotSupported',
          'a statement answered by a plugin must be sent on its own, one statement per query',
        ),
      );
    }
    const ast = parsed.statements[0];
    return { sql, ast, info, claim, paramTypes, paramCount: Math.max(paramTypes.length, highestParam(ast)) };
  }

  private view(
    stmt: PluginStatement,
    params: readonly (string | null)[],
    resultFormats: readonly number[],
    session: SessionView,
  ): Statement {
    const objects = stmt.info.objects!;
    return {
      sql: stmt.sql,
      ast: stmt.ast,
      params,
      paramTypes: stmt.paramTypes,
      resultFormats,
      ...(stmt.info.directive !== undefined && { hint: stmt.info.directive }),
      tables: objects.tables,
      functions: objects.functions,
      volatile: objects.volatile,
      session,
    };
  }

  private async describe(target: { kind: 'S' | 'P'; name: string }, session: SessionView): Promise<Buffer> {
    const portal = target.kind === 'P' ? this.portals.get(target.name)! : undefined;
    const stmt = portal?.stmt ?? this.statements.get(target.name)!;
    const view = this.view(stmt, portal?.params ?? [], portal?.resultFormats ?? [], session);
    const description = await this.call(stmt, 'describe', () => stmt.claim.handler.describe(view));
    const columns = description.columns;
    const rows = columns ? rowDescription(columns, portal?.resultFormats ?? []) : be.noData;
    if (portal) return rows;
    const given = description.params;
    const types = Array.from(
      { length: stmt.paramCount },
      (_, i) => given?.[i] ?? (stmt.paramTypes[i] || Oid.text),
    );
    return Buffer.concat([parameterDescription(types), rows]);
  }

  /**
   * Sends up to the row limit; like PostgreSQL, a limit reached suspends the portal even when no row is left.
   * A paged result is read a page at a time, so only the page being sent is held.
   */
  private async execute(exec: { portal: string; maxRows: number }, session: SessionView): Promise<Buffer> {
    const portal = this.portals.get(exec.portal)!;
    if (!portal.pending) {
      refuseReadOnlyWrite(portal.stmt, session);
      const view = this.view(portal.stmt, portal.params, portal.resultFormats, session);
      const result = await this.call(portal.stmt, 'execute', () => portal.stmt.claim.handler.execute(view));
      portal.pending = { result, rows: result.rows, next: 0, resumed: false };
    }
    const pending = portal.pending;
    const limit = exec.maxRows > 0 ? exec.maxRows : Infinity;
    const parts: Buffer[] = [];
    let sent = 0;
    while (sent < limit) {
      if (pending.next === pending.rows.length) {
        const page = await this.nextPage(portal.stmt, pending.result).catch((err: unknown) => {
          this.portals.delete(exec.portal);
          throw err;
        });
        if (!page) break;
        pending.rows = page;
        pending.next = 0;
        continue;
      }
      const to = Math.min(pending.rows.length, pending.next + (limit - sent));
      parts.push(
        ...this.dataRows(
          portal.stmt,
          pending.result.columns,
          pending.rows,
          portal.resultFormats,
          pending.next,
          to,
        ),
      );
      sent += to - pending.next;
      pending.next = to;
    }
    if (sent === limit) {
      pending.resumed = true;
      parts.push(portalSuspended);
    } else {
      portal.pending = undefined;
      parts.push(be.commandComplete(completionTag(pending, sent)));
    }
    return Buffer.concat(parts);
  }

  /** DataRows of rows from `from` to `to`. */
  private dataRows(
    stmt: PluginStatement,
    columns: readonly ResultColumn[] | null,
    rows: readonly Row[],
    formats: readonly number[],
    from: number,
    to: number,
  ): Buffer[] {
    const parts: Buffer[] = [];
    for (let i = from; i < to; i++) parts.push(dataRow(rows[i], columns ?? [], formats, stmt.claim.plugin));
    return parts;
  }

  /** A paged result's next page (null when done or not paged); a failure reaches the client as the plugin's error. */
  private async nextPage(stmt: PluginStatement, result: StatementResult): Promise<readonly Row[] | null> {
    if (!result.more) return null;
    try {
      return await result.more.next();
    } catch (err) {
      throw this.failure(stmt, err);
    }
  }

  /** Calls into the plugin that claimed stmt; its failure becomes an error for the client, never a crash. */
  private async call<T>(
    stmt: PluginStatement,
    hook: 'describe' | 'execute' | 'explain',
    work: () => Promise<T>,
  ): Promise<T> {
    const { plugin } = stmt.claim;
    const started = process.hrtime.bigint();
    try {
      const out = await work();
      this.host.recordClaim(plugin, hook, started, false);
      return out;
    } catch (err) {
      this.host.recordClaim(plugin, hook, started, true);
      throw this.failure(stmt, err);
    }
  }

  private failure(stmt: PluginStatement, err: unknown): ClientError {
    const { plugin } = stmt.claim;
    if (err instanceof PluginError || err instanceof ProxyError) return clientError(err);
    this.log.error('plugin failed', { plugin, err: messageOf(err) });
    return {
      sqlstate: errorCodes.internalError.sqlstate,
      message: `plugin "${plugin}" failed: ${messageOf(err)}`,
    };
  }
}

/** As PostgreSQL's executor: a write in a read-only transaction is refused before the plugin runs it (Describe still works). */
function refuseReadOnlyWrite(stmt: PluginStatement, session: SessionView): void {
  const command = session.readOnly ? sqlWriteCommand(stmt.ast) : undefined;
  if (command) throw clientError(readOnlyRefusal(command));
}

/** As PostgreSQL's: the Execute that ends a portal it suspended before counts only the rows it sent itself. */
function completionTag(pending: Pending, sent: number): string {
  const { result } = pending;
  if (result.more || (pending.resumed && /^SELECT \d+$/.test(result.command))) return `SELECT ${sent}`;
  return result.command;
}

function clientError(err: PluginError | ProxyError): ClientError {
  return { sqlstate: err.sqlstate, message: err.message, ...(err.hint && { hint: err.hint }) };
}

/** Per parse tree (shared by every Parse of the same text): its highest $n, so the tree is walked once. */
const highestParams = new WeakMap<StatementNode, number>();

/** The highest $n a statement uses: PostgreSQL reports that many parameters. */
function highestParam(ast: StatementNode): number {
  const known = highestParams.get(ast);
  if (known !== undefined) return known;
  let max = 0;
  findInTree(ast, (key, value) => {
    if (key === 'ParamRef') max = Math.max(max, (value as { number?: number }).number ?? 0);
    return false;
  });
  highestParams.set(ast, max);
  return max;
}
