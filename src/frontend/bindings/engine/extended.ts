// The engine binding's extended protocol: Parse, Bind, Describe, Execute and Close answered by the proxy.
import { encodeMessage, encodeRowDescription, encodeDataRow } from '../../../backend/shard-wire.js';
import { StatementError } from '../../../backend/statement-error.js';
import type { Outcome } from '../../../pipeline/statement-runner.js';
import * as be from '../../../protocol/backend-messages.js';
import { Frontend } from '../../../protocol/codes.js';
import { readBind, readExecute, readParse, readTarget } from '../../../protocol/extended-messages.js';
import { paramText } from '../../rounds/param-text.js';
import type { ClientMessage } from '../../rounds/passthrough-round.js';
import type { EnginePlugins } from './engine-plugins.js';
import type { ClientStatement, EngineState, Portal } from './engine-state.js';

export class ExtendedMessages {
  constructor(
    private readonly s: EngineState,
    private readonly plugins: EnginePlugins,
  ) {}

  async handle(m: ClientMessage): Promise<void> {
    const s = this.s;
    const info = m.type === Frontend.Parse ? s.classify(readParse(m.body, 0).sql) : null;
    if (info) s.access.see(info, this.plugins.session().inTransaction, s.runner.settings);
    const whole = m.whole;
    const plugins = this.plugins.claimsOf(m.type, info, whole);
    if (plugins) {
      const started = performance.now();
      const view = this.plugins.session();
      s.pending.push(await this.plugins.call(() => plugins.message(m.type, whole, info, view)));
      if (m.type === Frontend.Execute) s.statementDone(null, 'plugin', started);
      return;
    }
    switch (m.type) {
      case Frontend.Parse:
        s.define(m.body);
        s.pending.push(be.parseComplete);
        return;
      case Frontend.Bind:
        return this.bind(m.body);
      case Frontend.Describe:
        return this.describe(m.body);
      case Frontend.Execute:
        return this.execute(m.body);
      case Frontend.Close: {
        const t = readTarget(m.body, 0);
        if (t.kind === 'S') s.statementsByName.delete(t.name);
        else s.portals.delete(t.name);
        s.pending.push(be.closeComplete);
        return;
      }
      case Frontend.FunctionCall:
        throw StatementError.unsupported('the function call protocol is not supported on a sharded database');
      default:
        return;
    }
  }

  private bind(body: Buffer): void {
    const b = readBind(body, 0);
    const stmt = this.statementOf(b.statement);
    const bound = { formats: b.paramFormats, values: b.params, types: stmt.types };
    this.s.portals.set(b.portal, {
      sql: stmt.sql,
      stmt: stmt.stmt,
      bound,
      params: paramText(bound),
      resultFormats: b.resultFormats,
    });
    this.s.pending.push(be.bindComplete);
  }

  private async describe(body: Buffer): Promise<void> {
    const s = this.s;
    const t = readTarget(body, 0);
    if (t.kind === 'S') {
      const stmt = this.statementOf(t.name);
      for (const reply of await s.runner.describe(stmt.sql, stmt.types)) s.pending.push(encodeMessage(reply));
      return;
    }
    const portal = this.portalOf(t.name);
    try {
      portal.outcome ??= await this.runPortal(portal);
    } catch (err) {
      // PostgreSQL describes the portal without running it: the row description precedes the run's error.
      if (err instanceof StatementError && err.columns) s.pending.push(encodeRowDescription(err.columns));
      throw err;
    }
    const cols = portal.outcome.columns;
    s.pending.push(cols ? encodeRowDescription(cols) : be.noData);
  }

  private async execute(body: Buffer): Promise<void> {
    const s = this.s;
    const { portal: name, maxRows } = readExecute(body, 0);
    const portal = this.portalOf(name);
    const started = performance.now();
    s.cache?.ran(s.classify(portal.sql));
    const outcome = portal.outcome ?? (await this.runPortal(portal));
    if (this.sendBatch(portal, outcome, maxRows)) return;
    portal.outcome = undefined;
    portal.sent = undefined;
    s.statementDone(portal.sql, s.runner.lastRoute, started);
    if (name === '') s.portals.delete(name);
  }

  /**
   * An Execute's rows: those left, then CommandComplete; or, under a row limit that many, then
   * PortalSuspended (true), the portal keeping its place. As PostgreSQL: a limit reached at the last row
   * still suspends, and the CommandComplete that ends a limited run counts that run's rows.
   */
  private sendBatch(portal: Portal, o: Outcome, maxRows: number): boolean {
    const from = portal.sent ?? 0;
    const left = o.rows.length - from;
    if (o.tag !== null && o.columns && maxRows > 0 && left >= maxRows) {
      for (let i = from; i < from + maxRows; i++) this.s.pending.push(encodeDataRow(o.rows[i]));
      this.s.pending.push(be.portalSuspended);
      portal.outcome = o;
      portal.sent = from + maxRows;
      return true;
    }
    const limited = maxRows > 0 || from > 0;
    const tag = limited && o.tag?.startsWith('SELECT ') ? `SELECT ${left}` : o.tag;
    this.s.sendOutcome({ ...o, rows: from > 0 ? o.rows.slice(from) : o.rows, tag }, false);
    return false;
  }

  private statementOf(name: string): ClientStatement {
    const stmt = this.s.statementsByName.get(name);
    if (!stmt) throw StatementError.of('invalidStatementName', `prepared statement "${name}" does not exist`);
    return stmt;
  }

  private portalOf(name: string): Portal {
    const p = this.s.portals.get(name);
    if (!p) throw StatementError.of('invalidCursorName', `portal "${name}" does not exist`);
    return p;
  }

  private async runPortal(p: Portal): Promise<Outcome> {
    const s = this.s;
    if (!p.stmt) return { columns: null, rows: [], tag: null };
    const deallocated = (p.stmt.DeallocateStmt as { name?: string } | undefined)?.name;
    if (deallocated !== undefined && s.statementsByName.has(deallocated))
      return { columns: null, rows: [], tag: s.deallocateOwn(deallocated) };
    await this.plugins.finishJoined(p.stmt);
    s.runner.routeChoice = s.routeChoice(s.classify(p.sql));
    return s.runner.run(p.sql, p.stmt, p.bound, p.params, p.resultFormats);
  }
}
