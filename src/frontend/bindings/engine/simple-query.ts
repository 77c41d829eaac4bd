// The engine binding's simple protocol: one Query's statements, to one shard as the client's bytes or run by the engine.
import { encodeRowDescription, noBound } from '../../../backend/shard-wire.js';
import { StatementError } from '../../../backend/statement-error.js';
import { runCopyIn } from '../../../pipeline/copy-in.js';
import * as be from '../../../protocol/backend-messages.js';
import { Frontend } from '../../../protocol/codes.js';
import { classifiedByShape, type StatementInfo } from '../../../router/classify.js';
import { deallocateName } from '../../../router/session-state.js';
import { noParams, type Node } from '../../../router/sharding/ast-values.js';
import {
  templateOf,
  templateParams,
  type RouteTarget,
  type Template,
} from '../../../router/sharding/route-templates.js';
import { parseSql } from '../../../sql/parser.js';
import type { ClientMessage } from '../../rounds/passthrough-round.js';
import type { EnginePlugins } from './engine-plugins.js';
import type { EngineState, Piece } from './engine-state.js';

export class SimpleQuery {
  constructor(
    private readonly s: EngineState,
    private readonly plugins: EnginePlugins,
  ) {}

  /** Answers one Query message; true when the reply, ReadyForQuery included, went to the client as the shard sent it. */
  async run(sql: string, m: ClientMessage): Promise<boolean> {
    const s = this.s;
    const info = s.classify(sql);
    s.access.see(info, this.plugins.session().inTransaction, s.runner.settings);
    try {
      if (await this.answeredLocally(sql, info)) return false;
      s.aboutToRun(info);
      if (info.reason === 'deallocate' && info.statementCount === 1) {
        const name = deallocateName(sql);
        if (name !== null && s.statementsByName.has(name)) {
          s.pending.push(be.commandComplete(s.deallocateOwn(name)));
          return false;
        }
      }
      const template = this.templateFor(sql, info);
      if (template && (await this.forwardedByTemplate(template, m, info))) return true;
      const pieces = s.parse(sql, true);
      if (pieces.length === 0) {
        s.pending.push(be.emptyQueryResponse);
        return false;
      }
      if (pieces.length === 1 && (await this.forwarded(pieces[0], m, info, template))) return true;
      // Several statements outside a block form one implicit transaction, unless they manage transactions themselves.
      const implicit =
        pieces.length > 1 &&
        !s.runner.block &&
        pieces.every((p) => !p.stmt.TransactionStmt && !p.stmt.CopyStmt);
      if (implicit) await s.runner.implicitTransaction(() => this.runPieces(pieces));
      else await this.runPieces(pieces);
    } catch (err) {
      // A query that failed while it ran had its RowDescription sent first, in PostgreSQL.
      if (err instanceof StatementError && err.columns) s.pending.push(encodeRowDescription(err.columns));
      s.sendError(err);
    }
    return false;
  }

  /** A statement a plugin answers, EXPLAIN ROUTE, or SET polyproxy.route: answered here, true; else false. */
  private async answeredLocally(sql: string, info: StatementInfo): Promise<boolean> {
    const s = this.s;
    const plugins = this.plugins.claimsOf(Frontend.Query, info);
    if (plugins) {
      const started = performance.now();
      const view = this.plugins.session();
      s.pending.push(await this.plugins.call(() => plugins.query(sql, info, view)));
      s.statementDone(sql, 'plugin', started);
      return true;
    }
    if (info.explainRoute !== undefined) {
      await this.explainRoute(info.explainRoute);
      return true;
    }
    if (info.reason === 'route-override-invalid') {
      throw StatementError.of('invalidRouteValue');
    }
    // RESET ALL and DISCARD ALL reset the session's route too, and run on the shards.
    if (info.routeOverride) s.sessionRoute = info.routeOverride;
    if (info.reason === 'route-override') {
      s.pending.push(be.commandComplete('SET'));
      return true;
    }
    return false;
  }

  /** The fast path: a statement for one shard goes as the client's bytes, its reply comes back undecoded. */
  private async forwarded(
    p: Piece,
    m: ClientMessage,
    info: StatementInfo,
    template: Template | null,
  ): Promise<boolean> {
    const s = this.s;
    if (s.joined.length > 0 || !s.mayPassThrough(info)) return false;
    const target = await s.runner.passthroughShard(p.stmt, info.access === 'write');
    if (!target) return false;
    if (template && s.templates.get(template) === undefined)
      this.learnTemplate(template, m.text(), target, info);
    await this.sendThrough(s.chosen(target, info)!, m, info);
    return true;
  }

  /** The fast path without the parser, for a statement that differs from one routed before only in literals. */
  private async forwardedByTemplate(t: Template, m: ClientMessage, info: StatementInfo): Promise<boolean> {
    const s = this.s;
    const learned = s.templates.get(t);
    if (!learned || s.joined.length > 0 || !s.mayPassThrough(info)) return false;
    const target = s.chosen(
      await s.runner.passthroughShard(learned.stmt, info.access === 'write', templateParams(t)),
      info,
    );
    if (!target) return false;
    await this.sendThrough(target, m, info);
    return true;
  }

  private async sendThrough(target: RouteTarget, m: ClientMessage, info: StatementInfo): Promise<void> {
    const started = performance.now();
    this.s.flushOut();
    await this.s.runner.passthrough(target.shard, target.write, m.whole, this.s.socket);
    this.s.statementDone(info, 'single-shard', started);
  }

  /** A statement's template, when one may stand in for parsing it (not once the client changed how strings read). */
  private templateFor(sql: string, info: StatementInfo): Template | null {
    if (info.statementCount !== 1 || this.s.runner.settings.has('standard_conforming_strings')) return null;
    return templateOf(sql);
  }

  private learnTemplate(t: Template, sql: string, target: RouteTarget, info: StatementInfo): void {
    const s = this.s;
    const opts = { primaryFunctions: s.db.primaryFunctions };
    s.templates.learn(
      t,
      target,
      (text) => {
        const parsed = parseSql(text);
        return parsed.ok && parsed.statements.length === 1 ? (parsed.statements[0] as Node) : null;
      },
      (stmt, params) => {
        const route = s.runner.route(stmt, params);
        return route.kind === 'single'
          ? { shard: route.shard, write: route.write || info.access === 'write' }
          : null;
      },
      classifiedByShape(sql, info, opts) ? info : undefined,
    );
  }

  private async runPieces(pieces: Piece[]): Promise<void> {
    const s = this.s;
    for (const p of pieces) {
      const started = performance.now();
      await this.plugins.finishJoined(p.stmt);
      const route = s.runner.block?.failed ? null : await this.copyRoute(p);
      const outcome = route
        ? await runCopyIn(s.runner, p.sql, route, p.stmt.CopyStmt as Node, {
            next: () => s.next(),
            send: (b) => {
              s.pending.push(b);
              s.flushOut();
            },
          })
        : await s.runner.run(p.sql, p.stmt, noBound, noParams, []);
      s.sendOutcome(outcome, true);
      s.statementDone(p.sql, route ? 'scatter' : s.runner.lastRoute, started);
    }
  }

  /** The copy-in route of a COPY FROM STDIN, which needs the client's copy sub-protocol. */
  private async copyRoute(p: Piece) {
    if (!p.stmt.CopyStmt) return null;
    await this.s.runner.prepareMeta(p.stmt);
    const route = this.s.runner.route(p.stmt, noParams);
    return route.kind === 'copy-in' ? route : null;
  }

  private async explainRoute(target: string): Promise<void> {
    const [piece] = this.s.parse(target, false);
    if (!piece) throw StatementError.of('syntaxError', 'EXPLAIN ROUTE needs a statement');
    const lines = await this.s.runner.explain(piece.sql, piece.stmt, noParams);
    this.s.pending.push(be.rowDescription([{ name: 'route', typeOid: be.TypeOid.text }]));
    for (const line of lines) this.s.pending.push(be.dataRow([line]));
    this.s.pending.push(be.commandComplete('EXPLAIN'));
  }
}
