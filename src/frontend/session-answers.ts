// What a client session answers itself: EXPLAIN ROUTE, SET polyproxy.route, its own DEALLOCATE, the read-your-writes token.
import type { ServerConnection } from '../backend/server-connection.js';
import type { RouteChoice } from '../backend/shard.js';
import { formatLsn } from '../backend/lsn.js';
import { ProxyError } from '../errors.js';
import * as be from '../protocol/backend-messages.js';
import { Frontend, TxStatus } from '../protocol/codes.js';
import { explainPassthrough } from '../planner/explain-unsharded.js';
import type { StatementInfo } from '../router/classify.js';
import type { RouteOverride } from '../router/router.js';
import type { PluginHost } from '../plugins/host.js';
import { commandOf, type SessionCommand } from './session-commands.js';
import type { SessionPlugins, Queued } from './session-plugins.js';
import type { SessionPositions } from './session-positions.js';
import type { StatementForwarding } from './statement-forwarding.js';

/** What the answers need of their client session. */
export interface AnsweringSession {
  readonly txStatus: number;
  readonly server: ServerConnection | null;
  readonly serverRole: 'primary' | 'replica';
  readonly inBlock: boolean;
  queue: Queued[];
  override: RouteOverride;
  readonly positions: SessionPositions;
  readonly stats: { queries: number };
  readonly fwd: StatementForwarding;
  readonly plugins: PluginHost | null;
  readonly pluginSteps: SessionPlugins | null;
  classify(sql: string): StatementInfo;
  route(): RouteChoice | null;
  /** Writes to the client. */
  write(bytes: Buffer): void;
  pump(): void;
}

export class SessionAnswers {
  constructor(private readonly s: AnsweringSession) {}

  /** Answers a proxy command: EXPLAIN ROUTE, or SET polyproxy.route (which PostgreSQL could not parse). */
  answer(info: StatementInfo): void {
    if (info.explainRoute !== undefined) return this.explainRoute(info.explainRoute);
    const command = commandOf(info);
    if (command) return this.command(command);
    if (info.routeOverride) this.s.override = info.routeOverride;
    if (info.reason === 'route-override-invalid') {
      return this.writeError(new ProxyError('invalidRouteValue'));
    }
    this.s.write(Buffer.concat([be.commandComplete('SET'), be.readyForQuery(this.s.txStatus)]));
  }

  private command(command: SessionCommand): void {
    switch (command.kind) {
      case 'deallocate':
        return this.deallocate(command.name);
      case 'show-write-lsn': {
        const lsn = this.s.positions.own === null ? '' : formatLsn(this.s.positions.own);
        return this.writeOneValue('polyproxy.write_lsn', lsn, 'SHOW');
      }
      case 'set-min-lsn':
        this.s.positions.token = command.lsn;
        this.s.write(
          Buffer.concat([
            be.commandComplete(command.lsn === null ? 'RESET' : 'SET'),
            be.readyForQuery(this.s.txStatus),
          ]),
        );
        return;
      case 'invalid-min-lsn': {
        const message = `invalid value for polyproxy.min_lsn: "${command.value}"`;
        const hint = 'give a WAL position as SHOW polyproxy.write_lsn prints it, e.g. 0/16B3748';
        this.writeError(new ProxyError('invalidParameterValue', message, hint));
      }
    }
  }

  /** DEALLOCATE of a client's own protocol-level statement: only the client's name goes away. */
  private deallocate(name: string): void {
    if (this.s.txStatus === TxStatus.Failed) {
      return this.writeError(new ProxyError('inFailedTransaction'));
    }
    this.s.fwd.statements.forget(name);
    this.s.stats.queries++;
    this.s.write(Buffer.concat([be.commandComplete('DEALLOCATE'), be.readyForQuery(this.s.txStatus)]));
  }

  /** Answers EXPLAIN ROUTE itself: where the statement would run and why, without running it. */
  private explainRoute(sql: string): void {
    const info = this.s.classify(sql);
    const claim = this.s.plugins?.claimFor(info.objects);
    if (claim) {
      if ('mixed' in claim) return this.writeRouteText(`error: ${claim.mixed}`);
      // The plugin may need a moment (e.g. to learn a collection's columns): later messages wait.
      this.s.pluginSteps!.explain(sql, info, (text) => {
        this.writeRouteText(text);
        this.s.pump();
      });
      return;
    }
    const saved = this.s.queue;
    this.s.queue = [{ type: Frontend.Query, buf: Buffer.alloc(0), info }];
    const choice =
      this.s.server && (this.s.inBlock || this.s.txStatus !== TxStatus.Idle) ? null : this.s.route();
    this.s.queue = saved;
    const bound = this.s.server && {
      role: this.s.serverRole,
      host: this.serverHost(),
      reason: 'open-transaction' as const,
    };
    const text = explainPassthrough(choice ? choice.decision : bound);
    this.writeRouteText(text);
  }

  /** An error the proxy answers itself, ready for the next query. */
  private writeError(err: ProxyError): void {
    this.s.write(
      Buffer.concat([
        be.errorResponse({ severity: 'ERROR', sqlstate: err.sqlstate, message: err.message, hint: err.hint }),
        be.readyForQuery(this.s.txStatus),
      ]),
    );
  }

  private writeRouteText(text: string): void {
    this.writeOneValue('route', text, 'EXPLAIN');
  }

  /** A one-row, one-column text result the proxy answers itself, ready for the next query. */
  private writeOneValue(column: string, value: string, tag: string): void {
    this.s.write(
      Buffer.concat([
        be.rowDescription([{ name: column, typeOid: be.TypeOid.text }]),
        be.dataRow([value]),
        be.commandComplete(tag),
        be.readyForQuery(this.s.txStatus),
      ]),
    );
  }

  private serverHost(): string {
    const e = this.s.server?.endpoint;
    return e ? `${e.host}:${e.port}` : '';
  }
}
