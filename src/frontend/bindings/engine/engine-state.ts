// What the engine binding's parts share: the client's statements and portals, the messages waiting, the replies going out.
import type { Duplex } from 'node:stream';
import type { Database } from '../../../backend/database.js';
import { BackendError, type ServerConnection } from '../../../backend/server-connection.js';
import { ChannelLost } from '../../../backend/shard-channel.js';
import {
  encodeDataRow,
  encodeMessage,
  encodeRowDescription,
  type BoundParams,
} from '../../../backend/shard-wire.js';
import { startupSettings } from '../../../backend/server-settings.js';
import { StatementError } from '../../../backend/statement-error.js';
import { scopeKey } from '../../../backend/write-positions.js';
import type { Logger } from '../../../logger.js';
import type { StatementDone } from '../../../metrics/statement-metrics.js';
import { StatementRunner, type Outcome } from '../../../pipeline/statement-runner.js';
import type { TransactionParticipant } from '../../../plugins/api.js';
import * as be from '../../../protocol/backend-messages.js';
import { Backend, TxStatus } from '../../../protocol/codes.js';
import { readParse } from '../../../protocol/extended-messages.js';
import { MalformedMessage } from '../../../protocol/reader.js';
import { classifySql, type StatementInfo } from '../../../router/classify.js';
import type { RouteOverride } from '../../../router/router.js';
import type { Node, ParamValues } from '../../../router/sharding/ast-values.js';
import type { CachedKeyRoute } from '../../../router/sharding/key-param-route.js';
import {
  routeTemplatesFor,
  type RouteTarget,
  type RouteTemplates,
} from '../../../router/sharding/route-templates.js';
import { parseSql, type StatementSpan } from '../../../sql/parser.js';
import type { ClientMessage, KnownParse } from '../../rounds/passthrough-round.js';
import { ShardedCache } from '../../sharded-cache.js';
import { sqlstateClass, statementKind } from '../../statement-labels.js';
import { settleEngine } from './engine-session-state.js';
import { TransactionAccess } from '../../transaction-access.js';
import type { SessionHost } from '../binding.js';

export interface Portal {
  sql: string;
  stmt: Node | null;
  bound: BoundParams;
  params: ParamValues;
  resultFormats: number[];
  /** Run early to answer Describe, or by an Execute with a row limit; later Executes send its rows. */
  outcome?: Outcome;
  /** Rows of `outcome` already sent by Executes with a row limit. */
  sent?: number;
}

/** One parsed statement of a query string with its own text. */
export interface Piece {
  sql: string;
  stmt: Node;
}

export interface ClientStatement {
  name: string;
  sql: string;
  types: number[];
  stmt: Node | null;
  /** Its name and Parse on shard connections, made when a round first sends it there. */
  server?: { name: string; parse: Buffer };
  /** How the router classified it, once. */
  info?: StatementInfo;
  /** Which parameter decides its shard, once per catalog version. */
  keyRoute?: CachedKeyRoute;
}

export class EngineState {
  readonly db: Database;
  readonly log: Logger;
  readonly socket: Duplex;
  readonly runner: StatementRunner;
  readonly inbox: ClientMessage[] = [];
  waiter: ((m: ClientMessage) => void) | null = null;
  /** A statement (or the general path's loop) is under way: later messages wait in the inbox. */
  running = false;
  /** The shard connection running this client's statement, for its cancel requests. */
  server: ServerConnection | null = null;
  txStatus: number = TxStatus.Idle;
  /** Named (and the unnamed) statements with their parse, done once at Parse. */
  readonly statementsByName = new Map<string, ClientStatement>();
  readonly portals = new Map<string, Portal>();
  /** After an error in an extended-protocol round, messages are skipped until Sync. */
  skipping = false;
  pending: Buffer[] = [];
  /** Plugin work joined to the open block. */
  joined: TransactionParticipant[] = [];
  /** A plugin's call is under way. */
  inPlugin = false;
  /** Parsed statement templates of this database, shared by its clients. */
  readonly templates: RouteTemplates<StatementInfo>;
  /** The last unnamed Parse a round sent, decoded: the next round's identical bytes skip decoding. */
  lastParse: KnownParse | undefined;
  /** SET polyproxy.route: the primary or a replica of each shard for the rest of the session, or auto. */
  sessionRoute: RouteOverride = 'auto';
  /** The result cache and commit hooks of the database's plugins, when it has them. */
  readonly cache: ShardedCache | null;
  /** Whether the client's transaction is read-only, for plugins. */
  readonly access = new TransactionAccess();
  /** Starts what waits in the inbox (the binding's). */
  pump: () => void = () => {};
  /** The connections query_timeout sent a cancel request for the statement still running. */
  readonly cancelled = new Set<ServerConnection>();

  constructor(readonly host: SessionHost) {
    const db = (this.db = host.db);
    this.log = host.log;
    this.socket = host.socket;
    const startup = startupSettings(host.startupValues);
    const hooks = {
      running: (conn: ServerConnection | null) => this.onShardsRunning(conn),
      // A connection query_timeout cancelled already gets no second request: it could reach its next statement.
      cancel: (conn: ServerConnection) => {
        if (!this.cancelled.has(conn)) host.hooks.cancelServer(conn);
      },
    };
    this.runner = new StatementRunner(hooks, db.cluster, db.primaryFunctions, startup, new Map(startup));
    const application = host.startupValues.get('application_name');
    this.runner.scope = scopeKey(db.config.routing.read_your_writes, host.user, application);
    this.templates = routeTemplatesFor(db.cluster.map);
    this.cache = ShardedCache.of(db.plugins, db.name);
  }

  /**
   * A statement started or stopped on shard connections. The listener sends a client's cancel request to
   * `server` (the first of them); query_timeout counts from the statement's start until none runs it.
   */
  private onShardsRunning(conn: ServerConnection | null): void {
    const clock = this.host.clock;
    const inFlight = this.runner.inFlight;
    this.server = conn ?? inFlight.values().next().value ?? null;
    settleEngine(this);
    if (conn) {
      if (clock.waitingSince === 0) {
        clock.waitingSince = Date.now();
        clock.serverSilent = false;
      }
      return;
    }
    if (inFlight.size > 0) return;
    clock.answered();
    this.cancelled.clear();
  }

  /** A pipelined statement follows the one that just ended on the same connection. */
  nextStatement(): void {
    this.host.clock.answered();
    this.host.clock.waitingSince = Date.now();
    this.cancelled.clear();
  }

  /** The connections running this client's statement that still owe a reply. */
  statementConnections(): ServerConnection[] {
    const conns = [...this.runner.inFlight];
    if (this.server && !this.runner.inFlight.has(this.server)) conns.push(this.server);
    return conns.filter((c) => c.relay.busy() && !c.closed);
  }

  classify(sql: string): StatementInfo {
    return classifySql(sql, { primaryFunctions: this.db.primaryFunctions });
  }

  /** A statement's classification, made once per statement. */
  infoOf(statement: ClientStatement): StatementInfo {
    return (statement.info ??= this.classify(statement.sql));
  }

  /** The next client message, waiting for it to arrive (COPY data is read this way). */
  next(): Promise<ClientMessage> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  parse(sql: string, many: boolean): Piece[] {
    const checked = parseSql(sql);
    if (!checked.ok) throw StatementError.of('syntaxError', checked.error);
    const pieces = splitStatements(sql, checked.statements as Node[], checked.spans);
    if (!many && pieces.length > 1)
      throw StatementError.of('syntaxError', 'cannot insert multiple commands into a prepared statement');
    return pieces;
  }

  /** Keeps the statement a Parse (its body) defines, its text parsed once, here. */
  define(body: Buffer): void {
    const parsed = readParse(body, 0);
    const p = { name: parsed.name, sql: parsed.sql, types: parsed.paramTypes };
    const [piece] = this.parse(p.sql, false);
    // PostgreSQL's order: a syntax error first, then the failed block, then the name already taken.
    this.runner.checkParse(p.sql);
    if (p.name !== '' && this.statementsByName.has(p.name)) {
      throw StatementError.of('duplicateStatement', `prepared statement "${p.name}" already exists`);
    }
    this.statementsByName.set(p.name, { ...p, stmt: piece?.stmt ?? null });
  }

  /**
   * DEALLOCATE of a statement the client prepared at protocol level: the proxy holds it (the shards know it
   * by other names), so the proxy forgets it; its tag, or 25P02 in a failed block as PostgreSQL answers.
   */
  deallocateOwn(name: string): string {
    if (this.runner.block?.failed) {
      throw StatementError.of('inFailedTransaction');
    }
    this.statementsByName.delete(name);
    return 'DEALLOCATE';
  }

  sendOutcome(o: Outcome, describe: boolean): void {
    if (o.tag === null) {
      this.pending.push(be.emptyQueryResponse);
      return;
    }
    if (describe && o.columns) this.pending.push(encodeRowDescription(o.columns));
    for (const row of o.rows) this.pending.push(encodeDataRow(row));
    this.pending.push(be.commandComplete(o.tag));
  }

  ready(): void {
    // idle_transaction_timeout counts from the end of the client's last round, not from when it was sent.
    this.host.clock.lastClientAt = Date.now();
    this.txStatus = this.runner.txStatus;
    this.pending.push(be.readyForQuery(this.txStatus));
    this.flushOut();
    this.cache?.roundDone();
  }

  /** A statement is about to run: where the client asked it to, and what it may write for the commit hooks. */
  aboutToRun(info: StatementInfo): void {
    this.runner.routeChoice = this.routeChoice(info);
    this.cache?.ran(info);
  }

  /** ReadyForQuery once the commit hooks know what this client wrote, when it is idle again. */
  async settledReady(): Promise<void> {
    await this.cache?.settled(this.runner.txStatus);
    this.ready();
  }

  flushOut(): void {
    if (this.pending.length === 0 || this.host.closed) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.cache?.sent(data);
    this.socket.write(data);
    this.pending = [];
  }

  /**
   * Whether a statement may go to its shard as the client's bytes, its reply streaming back undecoded: not
   * while the cache captures the reply, nor a write whose acknowledgement waits for the commit hooks.
   */
  mayPassThrough(info: StatementInfo): boolean {
    return !this.cache || (!this.cache.capturing && info.access !== 'write');
  }

  /**
   * A hint on the statement, else the session's route: the primary or a replica of its shard(s), or null.
   * A write stays on the primary whatever was asked: a replica would only refuse it.
   */
  routeChoice(info: StatementInfo | null): 'primary' | 'replica' | null {
    const choice = info?.hint ?? (this.sessionRoute === 'auto' ? null : this.sessionRoute);
    return choice === 'replica' && info?.access === 'write' ? null : choice;
  }

  /** A statement's shard, on the primary or a replica as the client chose (outside a block only). */
  chosen(target: RouteTarget | null, info: StatementInfo): RouteTarget | null {
    const choice = this.routeChoice(info);
    if (!target || !choice || this.runner.block) return target;
    return { shard: target.shard, write: choice === 'primary' };
  }

  sendError(err: unknown): void {
    const body = this.errorBody(err);
    this.db.statementMetrics?.statementError({ database: this.db.name, sqlstateClass: sqlstateClass(body) });
    this.pending.push(encodeMessage({ type: Backend.ErrorResponse, body }));
  }

  /** Counts a statement that completed, with its latency, by what it did and where it went. */
  statementDone(what: string | StatementInfo | null, route: StatementDone['route'], started: number): void {
    const metrics = this.db.statementMetrics;
    if (!metrics) return;
    // A plugin portal's text is the plugin's: its statements are counted as reads.
    const info = typeof what === 'string' ? this.classify(what) : what;
    const kind = info === null ? 'read' : statementKind(info);
    const seconds = (performance.now() - started) / 1000;
    metrics.statementDone({ database: this.db.name, kind, route, seconds });
  }

  private errorBody(err: unknown): Buffer {
    if (err instanceof StatementError) return err.body;
    if (err instanceof MalformedMessage)
      return StatementError.of('protocolViolation', `invalid message: ${err.message}`).body;
    if (err instanceof BackendError) return StatementError.relay(err.sqlstate, err.message).body;
    if (err instanceof ChannelLost && this.host.clock.serverSilent) {
      this.host.clock.serverSilent = false;
      return StatementError.of('serverUnresponsive', undefined, 'retry; check the shard').body;
    }
    if (err instanceof ChannelLost) return StatementError.of('connectionFailure', err.message).body;
    this.log.error('statement failed in the proxy', {
      err: err instanceof Error ? err.stack : String(err),
    });
    return StatementError.of(
      'internalError',
      `internal error: ${err instanceof Error ? err.message : String(err)}`,
    ).body;
  }
}

/** Each statement of a parsed text with its own text (one parse serves both). */
function splitStatements(sql: string, statements: Node[], spans: StatementSpan[]): Piece[] {
  const bytes = Buffer.from(sql);
  return statements.map((stmt, i) => {
    const { location, length } = spans[i];
    const end = length === 0 ? bytes.length : location + length;
    return { sql: bytes.toString('utf8', location, end).trim(), stmt };
  });
}

export function sameTypes(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
