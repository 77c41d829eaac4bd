// The engine binding's plugins: statements they claim, work joined to the client's block, and rounds the cache answers.
import { StatementError } from '../../../backend/statement-error.js';
import { errorCodes } from '../../../errors.js';
import type { SessionView } from '../../../plugins/api.js';
import { Frontend } from '../../../protocol/codes.js';
import { readParse } from '../../../protocol/extended-messages.js';
import type { StatementInfo } from '../../../router/classify.js';
import type { Node } from '../../../router/sharding/ast-values.js';
import { mayBeCached, type RoundMessage, type StatementLookup } from '../../cache-round.js';
import { finishParticipants } from '../../plugin-participants.js';
import { PluginStatements, type ClientError } from '../../plugin-statements.js';
import { serverStatement, type ClientMessage } from '../../rounds/passthrough-round.js';
import { settleEngine } from './engine-session-state.js';
import type { EngineState } from './engine-state.js';

export class EnginePlugins {
  /** Statements and portals plugins answer (made on first use). */
  private work: PluginStatements | null = null;
  private view: SessionView | null = null;

  constructor(private readonly s: EngineState) {}

  /** The plugin statements of this client when a plugin answers this message (by claim, statement or portal). */
  claimsOf(type: number, info: StatementInfo | null, whole?: Buffer): PluginStatements | null {
    const host = this.s.db.plugins;
    if (!host?.hasClaims) return null;
    this.work ??= new PluginStatements(host, this.s.log);
    const message = whole ?? Buffer.alloc(0);
    return this.work.owns(type, message, 0, message.length, info) ? this.work : null;
  }

  /** A plugin's answer, or its error as a StatementError for the client (an open block fails with it). */
  async call(work: () => Promise<Buffer>): Promise<Buffer> {
    const runner = this.s.runner;
    this.s.inPlugin = true;
    settleEngine(this.s);
    try {
      return await work();
    } catch (err) {
      if (runner.block && !runner.block.implicit) runner.block.failed = true;
      if (err instanceof Error) throw err;
      const e = err as ClientError;
      throw StatementError.relay(e.sqlstate, e.message, e.hint);
    } finally {
      this.s.inPlugin = false;
      settleEngine(this.s);
    }
  }

  /** What plugins may know of this client: one object for the connection. */
  session(): SessionView {
    const s = this.s;
    this.view ??= {
      database: s.db.name,
      user: s.host.user,
      get inTransaction() {
        return s.runner.block !== null && !s.runner.block.implicit;
      },
      get readOnly() {
        return s.access.readOnly(this.inTransaction, s.runner.settings);
      },
      get settings() {
        return s.runner.settings;
      },
      enlist: (p) => {
        if (!s.joined.includes(p)) s.joined.push(p);
      },
    };
    return this.view;
  }

  /** COMMIT or ROLLBACK of a block plugins joined: they finish first; a failed commit rolls the shards back too. */
  async finishJoined(stmt: Node): Promise<void> {
    const { runner, joined } = this.s;
    const kind = (stmt.TransactionStmt as { kind?: string } | undefined)?.kind;
    if (joined.length === 0 || (kind !== 'TRANS_STMT_COMMIT' && kind !== 'TRANS_STMT_ROLLBACK')) return;
    const commit = kind === 'TRANS_STMT_COMMIT' && !runner.block?.failed;
    const failure = await finishParticipants(joined.splice(0), commit, this.s.log);
    if (!failure) return;
    await runner.close();
    const message = failure instanceof Error ? failure.message : String(failure);
    const sqlstate = (failure as { sqlstate?: string }).sqlstate ?? errorCodes.internalError.sqlstate;
    throw StatementError.relay(sqlstate, `COMMIT failed, the transaction was rolled back: ${message}`);
  }

  /** The client is gone: work joined to its block rolls back. */
  abandon(): void {
    if (this.s.joined.length > 0) void finishParticipants(this.s.joined.splice(0), false, this.s.log);
  }

  /** A round the plugins answered from their store (the cache); its replies, ReadyForQuery included, went out. */
  async answeredFromCache(m: ClientMessage): Promise<boolean> {
    const s = this.s;
    const cache = s.cache;
    if (!cache || s.runner.block || s.joined.length > 0 || s.db.plugins?.hasClaims) return false;
    const round = this.cacheRound(m);
    if (!round) return false;
    const unnamed = s.statementsByName.get('');
    const answer = await cache.answer(
      round,
      this.statementLookup,
      unnamed ? { sql: unnamed.sql, paramTypes: unnamed.types } : null,
      this.session(),
    );
    if (!answer) return false;
    s.inbox.splice(0, round.length - 1);
    // The round's Parse still defines the statement the client may bind later.
    for (const r of round) if (r.type === Frontend.Parse) s.define(r.buf.subarray(5));
    s.pending.push(answer);
    s.flushOut();
    return true;
  }

  /** The messages of a round the cache may answer (a Query, or all up to a Sync already here), or null. */
  private cacheRound(m: ClientMessage): RoundMessage[] | null {
    const s = this.s;
    if (!s.cache!.looksUp) return null;
    if (m.type === Frontend.Query) {
      const info = s.classify(m.text());
      return mayBeCached(info) ? [{ type: m.type, buf: m.whole, info }] : null;
    }
    // cacheableStatement() decides on the rest; a Parse of a name in use must reach the general path's error.
    const end = s.inbox.findIndex((q) => q.type === Frontend.Sync || q.type === Frontend.Query);
    if (end < 0 || s.inbox[end].type !== Frontend.Sync) return null;
    const round: RoundMessage[] = [];
    for (const q of [m, ...s.inbox.slice(0, end + 1)]) {
      const parse = q.type === Frontend.Parse ? readParse(q.body, 0) : null;
      if (parse && parse.name !== '' && s.statementsByName.has(parse.name)) return null;
      round.push({ type: q.type, buf: q.whole, info: parse && s.classify(parse.sql) });
    }
    return round;
  }

  /** The client's statements as the cache reads them: each one's Parse and classification. */
  private readonly statementLookup: StatementLookup = {
    get: (name) => {
      const st = this.s.statementsByName.get(name);
      if (!st?.stmt) return undefined;
      st.server ??= serverStatement(st.sql, st.types);
      return { parse: st.server.parse, info: this.s.infoOf(st) };
    },
  };
}
