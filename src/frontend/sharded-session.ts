// A client of a sharded database: decodes every statement, routes it to shards, merges scatter-gather results.
//
// It extends ClientSession only to share the session registry's shape (admin, cancel, shutdown); none
// of the single-shard forwarding path runs here. Statements run one at a time, in order.
import type { Database } from '../backend/database.js';
import { BackendError, type ServerConnection } from '../backend/server-connection.js';
import type { ProxyError } from '../errors.js';
import type { Logger } from '../logger.js';
import * as be from '../protocol/backend-messages.js';
import { Backend, Frontend, TxStatus } from '../protocol/codes.js';
import { FramingError, MessageFramer } from '../protocol/framer.js';
import { MalformedMessage } from '../protocol/reader.js';
import { classifiedByShape, classifySql } from '../router/classify.js';
import { noParams, type Node, type ParamValues } from '../router/sharding/ast-values.js';
import { parseSql, type StatementSpan } from '../sql/parser.js';
import { ClientSession, type SessionHooks } from './client-session.js';
import { ownedCopy, sameBytes, type SocketInput } from '../net/socket-input.js';
import { readBind, readExecute, readParse, readTarget } from '../protocol/extended-messages.js';
import { paramText } from './rounds/param-text.js';
import { sqlstateClass, statementKind } from './statement-labels.js';
import type { StatementDone } from '../metrics/statement-metrics.js';
import { PluginStatements, type ClientError } from './plugin-statements.js';
import { finishParticipants } from './plugin-participants.js';
import type { SessionView, TransactionParticipant } from '../plugins/api.js';
import type { StatementInfo } from '../router/classify.js';
import { runCopyIn } from '../pipeline/copy-in.js';
import {
  passRound,
  roundBytes,
  serverStatement,
  ClientMessage,
  type KnownParse,
  type PassRound,
} from './rounds/passthrough-round.js';
import { ChannelLost } from '../backend/shard-channel.js';
import { boundParamText, scanRound, shardRoundBytes, type RoundLayout } from './rounds/round-scan.js';
import { StatementError } from '../backend/statement-error.js';
import { deallocateName } from '../router/session-state.js';
import { scopeKey } from '../backend/write-positions.js';
import { errorCodes } from '../errors.js';
import { StatementRunner, type Outcome } from '../pipeline/statement-runner.js';
import {
  encodeDataRow,
  encodeMessage,
  encodeRowDescription,
  noBound,
  type BoundParams,
} from '../backend/shard-wire.js';
import { startupSettings } from '../backend/server-settings.js';
import type { RouteOverride } from '../router/router.js';
import { greetingSettings } from './greeting.js';
import { ShardedCache } from './sharded-cache.js';
import { mayBeCached, type RoundMessage, type StatementLookup } from './cache-round.js';
import {
  routeTemplatesFor,
  templateOf,
  templateParams,
  type RouteTarget,
  type RouteTemplates,
  type Template,
} from '../router/sharding/route-templates.js';
import type { CachedKeyRoute } from '../router/sharding/key-param-route.js';

interface Portal {
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
interface Piece {
  sql: string;
  stmt: Node;
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

interface ClientStatement {
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

export class ShardedSession extends ClientSession {
  private readonly runner: StatementRunner;
  private readonly clientFramer: MessageFramer;
  private readonly inbox: ClientMessage[] = [];
  private waiter: ((m: ClientMessage) => void) | null = null;
  private running = false;
  /** Named (and the unnamed) statements with their parse, done once at Parse. */
  private readonly statementsByName = new Map<string, ClientStatement>();
  private readonly portals = new Map<string, Portal>();
  /** After an error in an extended-protocol round, messages are skipped until Sync. */
  private skipping = false;
  private pending: Buffer[] = [];
  /** Statements and portals plugins answer, and plugin work joined to the open block. */
  private pluginWork: PluginStatements | null = null;
  private joined: TransactionParticipant[] = [];
  private pluginView: SessionView | null = null;
  /** Parsed statement templates of this database, shared by its clients. */
  private readonly templates: RouteTemplates<StatementInfo>;
  /** The fast path's statement in flight and when it started, for its metrics. */
  private throughInfo: StatementInfo | null = null;
  private throughStarted = 0;
  /** Inside startThrough(): a statement that ends at once leaves the next one to it. */
  private starting = false;
  /** The last unnamed Parse a round sent, decoded: the next round's identical bytes skip decoding. */
  private lastParse: KnownParse | undefined;
  /** SET polyproxy.route: the primary or a replica of each shard for the rest of the session, or auto. */
  private sessionRoute: RouteOverride = 'auto';
  /** The result cache and commit hooks of the database's plugins, when it has them. */
  private readonly cache: ShardedCache | null;
  /** The client's startup parameters, echoed in the greeting. */
  private readonly startupEcho: Map<string, string>;

  constructor(
    private readonly clientInput: SocketInput,
    db: Database,
    user: string,
    pid: number,
    secret: number,
    startupValues: Map<string, string>,
    maxMessageBytes: number,
    private readonly sessionLog: Logger,
    private readonly sessionHooks: SessionHooks,
  ) {
    super(clientInput, db, user, pid, secret, startupValues, maxMessageBytes, sessionLog, sessionHooks);
    this.clientFramer = MessageFramer.client(maxMessageBytes);
    const startup = startupSettings(startupValues);
    const hooks = {
      // The listener sends a client's cancel request to `server`: the shard running its statement.
      running: (conn: ServerConnection | null) => (this.server = conn),
      cancel: (conn: ServerConnection) => sessionHooks.cancelServer(conn),
    };
    this.runner = new StatementRunner(hooks, db.cluster!, db.primaryFunctions, startup, new Map(startup));
    this.runner.scope = scopeKey(
      db.config.routing.read_your_writes,
      user,
      startupValues.get('application_name'),
    );
    this.templates = routeTemplatesFor(db.cluster!.map);
    this.pinned = null;
    this.cache = ShardedCache.of(db.plugins, db.name);
    this.startupEcho = startupValues;
  }

  override start(serverParams: Map<string, string>, leftover: Buffer): void {
    const parts: Buffer[] = [];
    for (const [k, v] of greetingSettings(serverParams, this.startupEcho))
      parts.push(be.parameterStatus(k, v));
    parts.push(be.backendKeyData(this.pid, this.secret), be.readyForQuery(TxStatus.Idle));
    this.socketOf().write(Buffer.concat(parts));
    this.clientInput.handler = (chunk) => this.onChunk(chunk);
    this.socketOf().on('close', () => this.gone());
    this.socketOf().on('error', () => {});
    if (leftover.length > 0) this.onChunk(leftover);
  }

  override inTransaction(): boolean {
    return this.running || this.inbox.length > 0 || this.runner.block !== null;
  }

  override terminate(err: ProxyError): void {
    if (this.closed) return;
    const fatal = be.errorResponse({
      severity: 'FATAL',
      sqlstate: err.sqlstate,
      message: err.message,
      hint: err.hint,
    });
    this.socketOf().end(fatal);
    this.gone();
  }

  private socketOf() {
    return this.clientInput.socket;
  }

  private onChunk(chunk: Buffer): void {
    if (!this.running && this.inbox.length === 0 && this.clientFramer.atBoundary && this.startDirect(chunk))
      return;
    try {
      // One copy per chunk, not per message: messages outlive the socket's reused read buffer, and those of
      // one round stay side by side, so the round can go to its shard as one view of that copy.
      this.clientFramer.feed(Buffer.from(chunk), (type, buf, start, end) => {
        const m = new ClientMessage(type, buf, start, end);
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = null;
          w(m);
        } else this.inbox.push(m);
      });
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.socketOf().end(
        be.errorResponse({
          severity: 'FATAL',
          sqlstate: errorCodes.protocolViolation.sqlstate,
          message: err.message,
        }),
      );
      this.gone();
      return;
    }
    this.pumpInbox();
  }

  /** Starts what waits: the first message on the fast path when it can go there, else the general path. */
  private pumpInbox(): void {
    if (this.running || this.closed || this.inbox.length === 0) return;
    let started = false;
    try {
      started = this.startFast();
    } catch (err) {
      // A malformed message, say: nothing was consumed, and the general path answers it with its error.
      // Anything else is a fault of the fast path; it must not escape into the socket's read callback.
      if (!(err instanceof MalformedMessage))
        this.sessionLog.error('fast path failed', { err: err instanceof Error ? err.stack : String(err) });
    }
    if (!started) void this.drain();
  }

  /**
   * The fast path, from idle: a Query like one routed before but for its literals, or a whole
   * extended-protocol round for one statement, that routes to one shard outside a block goes as the client's
   * bytes, with no promise on the way when a connection is idle there (else it waits for the pool's next
   * one). False when the first message needs the general path.
   */
  private startFast(): boolean {
    if (!this.fastPathOpen()) return false;
    const m = this.inbox[0];
    if (m.type === Frontend.Query) return this.fastQuery(m.text(), m.whole, 1);
    if (m.type === Frontend.Parse || m.type === Frontend.Bind) return this.fastRound();
    return false;
  }

  /** Statements may go by a fast path: no failed round to skip, no open block, nothing plugins claim. */
  private fastPathOpen(): boolean {
    return !this.skipping && !this.runner.block && this.joined.length === 0 && !this.db.plugins?.hasClaims;
  }

  /**
   * The fast path straight from a read, before any framing, when the session is idle and the read is
   * exactly one Query or one extended-protocol round (as drivers send a statement): false, with nothing
   * consumed, when it is anything else or must take the framed paths.
   */
  private startDirect(chunk: Buffer): boolean {
    if (this.closed || !this.fastPathOpen()) return false;
    const n = chunk.length;
    if (n >= 6 && chunk[0] === Frontend.Query && chunk.readInt32BE(1) === n - 1 && chunk[n - 1] === 0)
      return this.fastQuery(chunk.toString('utf8', 5, n - 1), chunk, 0, true);
    return this.directRound(chunk);
  }

  /** startDirect() for a round: a statement whose shard one parameter decides, known from earlier rounds. */
  private directRound(chunk: Buffer): boolean {
    const layout = scanRound(chunk);
    const statement = layout && this.directStatement(chunk, layout);
    const keyRoute = statement && this.runner.keyRouteOf(statement);
    if (!layout || !statement || !keyRoute) return false;
    const info = this.infoOf(statement);
    const key = boundParamText(chunk, layout, keyRoute.param, statement.types);
    const target = this.runner.shardByKey(keyRoute, key, info.access === 'write');
    if (!target) return false;
    // A Bind of an earlier statement names its copy on shard connections, prepared where missing.
    const prepare =
      layout.parse >= 0 ? undefined : (statement.server ??= serverStatement(statement.sql, statement.types));
    if (!this.startThrough(0, target, shardRoundBytes(chunk, layout, prepare?.name), prepare, info))
      return false;
    this.portals.delete('');
    return true;
  }

  /** The statement a round in a read runs, when the session knows it already: by its Parse's bytes, or by name. */
  private directStatement(chunk: Buffer, layout: RoundLayout): ClientStatement | null {
    if (layout.parse < 0) {
      const named = this.statementsByName.get(chunk.toString('utf8', layout.nameStart, layout.nameEnd));
      return named?.stmt ? named : null;
    }
    // The same unnamed Parse as the last round's (drivers repeat it): that round's statement.
    const last = this.lastParse;
    const current = this.statementsByName.get('');
    if (!last || !current?.stmt || !sameBytes(chunk, 5, layout.bind, last.body)) return null;
    return current.sql === last.parse.sql && sameTypes(current.types, last.parse.paramTypes) ? current : null;
  }

  /** A Query whose template was learned: to its shard as the client's bytes (`copy` them when they are a read's). */
  private fastQuery(sql: string, whole: Buffer, count: number, copy = false): boolean {
    // A simple query drops the unnamed statement, as in PostgreSQL.
    this.statementsByName.delete('');
    if (this.runner.settings.has('standard_conforming_strings')) return false;
    const t = templateOf(sql);
    const learned = t && this.templates.get(t);
    if (!learned) return false;
    // A template is learned from one plain statement; its classification is kept when no literal shaped it.
    const info = learned.info ?? classifySql(sql, { primaryFunctions: this.db.primaryFunctions });
    if (info.explainRoute !== undefined || info.reason.startsWith('route-override')) return false;
    if (info.reason === 'deallocate') return false;
    const target = this.runner.singleShardNow(learned, info.access === 'write', templateParams(t));
    return (
      target !== null && this.startThrough(count, target, copy ? Buffer.from(whole) : whole, undefined, info)
    );
  }

  private fastRound(): boolean {
    const plan = this.roundPlan(passRound(this.inbox, 0, this.lastParse));
    if (!plan) return false;
    const { round, statement, info } = plan;
    const target = this.runner.singleShardNow(statement, info.access === 'write', plan.params);
    if (!target) return false;
    const first = this.inbox[0];
    const rest = this.inbox.slice(1, round.following + 1);
    const { bytes, prepare } = this.roundMessages(round, statement, first, rest);
    if (!this.startThrough(round.following + 1, target, bytes, prepare, info)) return false;
    this.adoptRound(round, statement, first);
    return true;
  }

  /** A passthrough round with its statement, classification and parameters, or null when it is none. */
  private roundPlan(round: PassRound | null) {
    const statement = round && this.roundStatement(round);
    if (!round || !statement) return null;
    const bound = { formats: round.bind.paramFormats, values: round.bind.params, types: statement.types };
    return { round, statement, info: this.infoOf(statement), params: paramText(bound) };
  }

  /** After a round went to a shard: its unnamed portal is gone, its unnamed statement is the client's. */
  private adoptRound(round: PassRound, statement: ClientStatement, first: ClientMessage): void {
    this.portals.delete('');
    if (!round.parse) return;
    this.statementsByName.set('', statement);
    if (this.lastParse?.parse !== round.parse)
      this.lastParse = { body: ownedCopy(first.buf, first.start + 5, first.end), parse: round.parse };
  }

  /** The statement a passthrough round runs: the one it parses, or the earlier one its Bind names. */
  private roundStatement(round: PassRound): ClientStatement | null {
    if (!round.parse) {
      const named = this.statementsByName.get(round.bind.statement);
      return named?.stmt ? named : null;
    }
    const { sql, paramTypes: types } = round.parse;
    // Drivers send the same unnamed Parse round after round: its parse and classification carry over.
    const last = this.statementsByName.get('');
    if (last?.stmt && last.sql === sql && sameTypes(last.types, types)) return last;
    const parsed = parseSql(sql);
    if (!parsed.ok || parsed.statements.length !== 1) return null;
    return { name: '', sql, types, stmt: parsed.statements[0] as Node };
  }

  /** A statement's classification, made once per statement. */
  private infoOf(statement: ClientStatement): StatementInfo {
    return (statement.info ??= classifySql(statement.sql, { primaryFunctions: this.db.primaryFunctions }));
  }

  /** A round's bytes for the shard: as the client sent them, or with the Bind naming the statement's server-side copy. */
  private roundMessages(
    round: PassRound,
    statement: ClientStatement,
    first: ClientMessage,
    rest: ClientMessage[],
  ): { bytes: Buffer; prepare?: { name: string; parse: Buffer } } {
    if (round.parse) return { bytes: roundBytes(first, rest) };
    statement.server ??= serverStatement(statement.sql, statement.types);
    return { bytes: roundBytes(first, rest, statement.server.name), prepare: statement.server };
  }

  /** Takes `count` messages off the inbox and relays them to the target shard, unless the general path must. */
  private startThrough(
    count: number,
    target: RouteTarget,
    bytes: Buffer,
    prepare: { name: string; parse: Buffer } | undefined,
    info: StatementInfo,
  ): boolean {
    // A read the cache may answer, or a write the commit hooks must hear of, takes the general path.
    if (!this.mayPassThrough(info) || (this.cache?.looksUp && mayBeCached(info))) return false;
    target = this.chosen(target, info)!;
    this.throughInfo = info;
    this.throughStarted = performance.now();
    this.running = true;
    this.starting = true;
    const ok = this.runner.passthroughNow(
      target.shard,
      target.write,
      bytes,
      this.socketOf(),
      prepare,
      this.afterThrough,
    );
    this.starting = false;
    if (!ok) {
      this.running = false;
      return false;
    }
    this.flushOut();
    this.inbox.splice(0, count);
    // A connection found lost at once ends the statement before the messages left the inbox.
    if (!this.running) this.pumpInbox();
    return true;
  }

  /** A statement of the fast path is over: its reply, or its error, went to the client. */
  private readonly afterThrough = (err: Error | null): void => {
    if (err) {
      this.sendError(err);
      this.ready();
    } else this.statementDone(this.throughInfo, 'single-shard', this.throughStarted);
    this.running = false;
    if (!this.starting) this.pumpInbox();
  };

  /** The next client message, waiting for it to arrive (COPY data is read this way). */
  private next(): Promise<ClientMessage> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.inbox.length > 0 && !this.closed) await this.handle(this.inbox.shift()!);
    } catch (err) {
      this.sessionLog.error('sharded session failed', {
        err: err instanceof Error ? err.stack : String(err),
      });
      this.socketOf().end(
        be.errorResponse({
          severity: 'FATAL',
          sqlstate: errorCodes.internalError.sqlstate,
          message: 'internal error in the sharded session',
        }),
      );
      this.gone();
    } finally {
      this.running = false;
    }
  }

  private async handle(m: ClientMessage): Promise<void> {
    if (m.type === Frontend.Terminate) {
      this.socketOf().end();
      this.gone();
      return;
    }
    if (m.type === Frontend.Query) {
      this.statementsByName.delete('');
      if (await this.answeredFromCache(m)) return;
      // A forwarded statement's reply carried its own ReadyForQuery.
      if (!(await this.simpleQuery(m.text(), m))) await this.settledReady();
      return;
    }
    if (m.type === Frontend.Sync) {
      this.skipping = false;
      await this.settledReady();
      return;
    }
    if (m.type === Frontend.Flush) return this.flushOut();
    if (this.skipping) return;
    try {
      const starts = m.type === Frontend.Parse || m.type === Frontend.Bind;
      if (starts && ((await this.answeredFromCache(m)) || (await this.roundThrough(m)))) return;
      await this.extended(m);
    } catch (err) {
      this.skipping = true;
      this.sendError(err);
    }
  }

  /**
   * The extended-protocol fast path: a whole round for one statement on one shard (in autocommit, or joining
   * the open block's transaction there) goes as the client's bytes (its Bind renamed when it uses an earlier
   * statement), the reply comes back undecoded. False, with nothing consumed, for any other round.
   */
  private async roundThrough(m: ClientMessage): Promise<boolean> {
    if (this.joined.length > 0 || this.db.plugins?.hasClaims) return false;
    const plan = this.roundPlan(passRound([m, ...this.inbox], 0, this.lastParse));
    if (!plan || !this.mayPassThrough(plan.info)) return false;
    const { round, statement, info } = plan;
    const target = this.chosen(
      await this.runner.passthroughShard(statement.stmt!, info.access === 'write', plan.params),
      info,
    );
    if (!target) return false;
    const rest = this.inbox.splice(0, round.following);
    this.adoptRound(round, statement, m);
    const { bytes, prepare } = this.roundMessages(round, statement, m, rest);
    const started = performance.now();
    this.flushOut();
    try {
      await this.runner.passthrough(target.shard, target.write, bytes, this.socketOf(), prepare);
      this.statementDone(info, 'single-shard', started);
    } catch (err) {
      this.sendError(err);
      this.ready();
    }
    return true;
  }

  private ready(): void {
    this.txStatus = this.runner.txStatus;
    this.pending.push(be.readyForQuery(this.txStatus));
    this.flushOut();
    this.cache?.roundDone();
  }

  /** A statement is about to run: where the client asked it to, and what it may write for the commit hooks. */
  private aboutToRun(info: StatementInfo): void {
    this.runner.routeChoice = this.routeChoice(info);
    this.cache?.ran(info);
  }

  /** ReadyForQuery once the commit hooks know what this client wrote, when it is idle again. */
  private async settledReady(): Promise<void> {
    await this.cache?.settled(this.runner.txStatus);
    this.ready();
  }

  private flushOut(): void {
    if (this.pending.length === 0 || this.closed) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.cache?.sent(data);
    this.socketOf().write(data);
    this.pending = [];
  }

  /**
   * Whether a statement may go to its shard as the client's bytes, its reply streaming back undecoded: not
   * while the cache captures the reply, nor a write whose acknowledgement waits for the commit hooks.
   */
  private mayPassThrough(info: StatementInfo): boolean {
    return !this.cache || (!this.cache.capturing && info.access !== 'write');
  }

  /**
   * A hint on the statement, else the session's route: the primary or a replica of its shard(s), or null.
   * A write stays on the primary whatever was asked: a replica would only refuse it.
   */
  private routeChoice(info: StatementInfo | null): 'primary' | 'replica' | null {
    const choice = info?.hint ?? (this.sessionRoute === 'auto' ? null : this.sessionRoute);
    return choice === 'replica' && info?.access === 'write' ? null : choice;
  }

  /** A statement's shard, on the primary or a replica as the client chose (outside a block only). */
  private chosen(target: RouteTarget | null, info: StatementInfo): RouteTarget | null {
    const choice = this.routeChoice(info);
    if (!target || !choice || this.runner.block) return target;
    return { shard: target.shard, write: choice === 'primary' };
  }

  /** A round the plugins answered from their store (the cache); its replies, ReadyForQuery included, went out. */
  private async answeredFromCache(m: ClientMessage): Promise<boolean> {
    const cache = this.cache;
    if (!cache || this.runner.block || this.joined.length > 0 || this.db.plugins?.hasClaims) return false;
    const round = this.cacheRound(m);
    if (!round) return false;
    const unnamed = this.statementsByName.get('');
    const answer = await cache.answer(
      round,
      this.statementLookup,
      unnamed ? { sql: unnamed.sql, paramTypes: unnamed.types } : null,
      this.pluginSession(),
    );
    if (!answer) return false;
    this.inbox.splice(0, round.length - 1);
    // The round's Parse still defines the statement the client may bind later.
    for (const r of round) if (r.type === Frontend.Parse) this.define(r.buf.subarray(5));
    this.pending.push(answer);
    this.flushOut();
    return true;
  }

  /** The messages of a round the cache may answer (a Query, or all up to a Sync already here), or null. */
  private cacheRound(m: ClientMessage): RoundMessage[] | null {
    const classify = (sql: string) => classifySql(sql, { primaryFunctions: this.db.primaryFunctions });
    if (!this.cache!.looksUp) return null;
    if (m.type === Frontend.Query) {
      const info = classify(m.text());
      return mayBeCached(info) ? [{ type: m.type, buf: m.whole, info }] : null;
    }
    // cacheableStatement() decides on the rest; a Parse of a name in use must reach the general path's error.
    const end = this.inbox.findIndex((q) => q.type === Frontend.Sync || q.type === Frontend.Query);
    if (end < 0 || this.inbox[end].type !== Frontend.Sync) return null;
    const round: RoundMessage[] = [];
    for (const q of [m, ...this.inbox.slice(0, end + 1)]) {
      const parse = q.type === Frontend.Parse ? readParse(q.body, 0) : null;
      if (parse && parse.name !== '' && this.statementsByName.has(parse.name)) return null;
      round.push({ type: q.type, buf: q.whole, info: parse && classify(parse.sql) });
    }
    return round;
  }

  /** The client's statements as the cache reads them: each one's Parse and classification. */
  private readonly statementLookup: StatementLookup = {
    get: (name) => {
      const s = this.statementsByName.get(name);
      if (!s?.stmt) return undefined;
      s.server ??= serverStatement(s.sql, s.types);
      return { parse: s.server.parse, info: this.infoOf(s) };
    },
  };

  private sendError(err: unknown): void {
    const body = this.errorBody(err);
    this.db.statementMetrics?.statementError({ database: this.db.name, sqlstateClass: sqlstateClass(body) });
    this.pending.push(encodeMessage({ type: Backend.ErrorResponse, body }));
  }

  /** Counts a statement that completed, with its latency, by what it did and where it went. */
  private statementDone(
    what: string | StatementInfo | null,
    route: StatementDone['route'],
    started: number,
  ): void {
    const metrics = this.db.statementMetrics;
    if (!metrics) return;
    // A plugin portal's text is the plugin's: its statements are counted as reads.
    const info =
      typeof what === 'string' ? classifySql(what, { primaryFunctions: this.db.primaryFunctions }) : what;
    const kind = info === null ? 'read' : statementKind(info);
    const seconds = (performance.now() - started) / 1000;
    metrics.statementDone({ database: this.db.name, kind, route, seconds });
  }

  private errorBody(err: unknown): Buffer {
    if (err instanceof StatementError) return err.body;
    if (err instanceof MalformedMessage)
      return StatementError.of('protocolViolation', `invalid message: ${err.message}`).body;
    if (err instanceof ChannelLost || err instanceof BackendError) {
      if (err instanceof BackendError) return StatementError.relay(err.sqlstate, err.message).body;
      return StatementError.of('connectionFailure', err.message).body;
    }
    this.sessionLog.error('statement failed in the proxy', {
      err: err instanceof Error ? err.stack : String(err),
    });
    return StatementError.of(
      'internalError',
      `internal error: ${err instanceof Error ? err.message : String(err)}`,
    ).body;
  }

  /** Answers one Query message; true when the reply, ReadyForQuery included, went to the client as the shard sent it. */
  private async simpleQuery(sql: string, m: ClientMessage): Promise<boolean> {
    const info = classifySql(sql, { primaryFunctions: this.db.primaryFunctions });
    this.access.see(info, this.pluginSession().inTransaction, this.runner.settings);
    try {
      const plugins = this.claimsOf(Frontend.Query, info);
      if (plugins) {
        const started = performance.now();
        this.pending.push(await this.pluginCall(() => plugins.query(sql, info, this.pluginSession())));
        this.statementDone(sql, 'plugin', started);
        return false;
      }
      if (info.explainRoute !== undefined) {
        await this.explainRoute(info.explainRoute);
        return false;
      }
      if (info.reason === 'route-override-invalid') {
        throw StatementError.of('invalidRouteValue');
      }
      // RESET ALL and DISCARD ALL reset the session's route too, and run on the shards.
      if (info.routeOverride) this.sessionRoute = info.routeOverride;
      if (info.reason === 'route-override') {
        this.pending.push(be.commandComplete('SET'));
        return false;
      }
      this.aboutToRun(info);
      if (info.reason === 'deallocate' && info.statementCount === 1) {
        const name = deallocateName(sql);
        if (name !== null && this.statementsByName.has(name)) {
          this.pending.push(be.commandComplete(this.deallocateOwn(name)));
          return false;
        }
      }
      const template = this.templateFor(sql, info);
      if (template && (await this.forwardedByTemplate(template, m, info))) return true;
      const pieces = this.parse(sql, true);
      if (pieces.length === 0) {
        this.pending.push(be.emptyQueryResponse);
        return false;
      }
      if (pieces.length === 1 && (await this.forwarded(pieces[0], m, info, template))) return true;
      // Several statements outside a block form one implicit transaction, unless they manage transactions themselves.
      const implicit =
        pieces.length > 1 &&
        !this.runner.block &&
        pieces.every((p) => !p.stmt.TransactionStmt && !p.stmt.CopyStmt);
      if (implicit) await this.runner.implicitTransaction(() => this.runPieces(pieces));
      else await this.runPieces(pieces);
    } catch (err) {
      this.sendError(err);
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
    if (this.joined.length > 0 || !this.mayPassThrough(info)) return false;
    const target = await this.runner.passthroughShard(p.stmt, info.access === 'write');
    if (!target) return false;
    if (template && this.templates.get(template) === undefined)
      this.learnTemplate(template, m.text(), target, info);
    await this.sendThrough(this.chosen(target, info)!, m, info);
    return true;
  }

  /** The fast path without the parser, for a statement that differs from one routed before only in literals. */
  private async forwardedByTemplate(t: Template, m: ClientMessage, info: StatementInfo): Promise<boolean> {
    const learned = this.templates.get(t);
    if (!learned || this.joined.length > 0 || !this.mayPassThrough(info)) return false;
    const target = this.chosen(
      await this.runner.passthroughShard(learned.stmt, info.access === 'write', templateParams(t)),
      info,
    );
    if (!target) return false;
    await this.sendThrough(target, m, info);
    return true;
  }

  private async sendThrough(target: RouteTarget, m: ClientMessage, info: StatementInfo): Promise<void> {
    const started = performance.now();
    this.flushOut();
    await this.runner.passthrough(target.shard, target.write, m.whole, this.socketOf());
    this.statementDone(info, 'single-shard', started);
  }

  /** A statement's template, when one may stand in for parsing it (not once the client changed how strings read). */
  private templateFor(sql: string, info: StatementInfo): Template | null {
    if (info.statementCount !== 1 || this.runner.settings.has('standard_conforming_strings')) return null;
    return templateOf(sql);
  }

  private learnTemplate(t: Template, sql: string, target: RouteTarget, info: StatementInfo): void {
    const opts = { primaryFunctions: this.db.primaryFunctions };
    this.templates.learn(
      t,
      target,
      (text) => {
        const parsed = parseSql(text);
        return parsed.ok && parsed.statements.length === 1 ? (parsed.statements[0] as Node) : null;
      },
      (stmt, params) => {
        const route = this.runner.route(stmt, params);
        return route.kind === 'single'
          ? { shard: route.shard, write: route.write || info.access === 'write' }
          : null;
      },
      classifiedByShape(sql, info, opts) ? info : undefined,
    );
  }

  private async runPieces(pieces: Piece[]): Promise<void> {
    for (const p of pieces) {
      const started = performance.now();
      await this.finishJoined(p.stmt);
      const route = this.runner.block?.failed ? null : await this.copyRoute(p);
      const outcome = route
        ? await runCopyIn(this.runner, p.sql, route, p.stmt.CopyStmt as Node, {
            next: () => this.next(),
            send: (b) => {
              this.pending.push(b);
              this.flushOut();
            },
          })
        : await this.runner.run(p.sql, p.stmt, noBound, noParams, []);
      this.sendOutcome(outcome, true);
      this.statementDone(p.sql, route ? 'scatter' : this.runner.lastRoute, started);
    }
  }

  /** The copy-in route of a COPY FROM STDIN, which needs the client's copy sub-protocol. */
  private async copyRoute(p: Piece) {
    if (!p.stmt.CopyStmt) return null;
    await this.runner.prepareMeta(p.stmt);
    const route = this.runner.route(p.stmt, noParams);
    return route.kind === 'copy-in' ? route : null;
  }

  private parse(sql: string, many: boolean): Piece[] {
    const checked = parseSql(sql);
    if (!checked.ok) throw StatementError.of('syntaxError', checked.error);
    const pieces = splitStatements(sql, checked.statements as Node[], checked.spans);
    if (!many && pieces.length > 1)
      throw StatementError.of('syntaxError', 'cannot insert multiple commands into a prepared statement');
    return pieces;
  }

  private async explainRoute(target: string): Promise<void> {
    const [piece] = this.parse(target, false);
    if (!piece) throw StatementError.of('syntaxError', 'EXPLAIN ROUTE needs a statement');
    const lines = await this.runner.explain(piece.sql, piece.stmt, noParams);
    this.pending.push(be.rowDescription([{ name: 'route', typeOid: be.TypeOid.text }]));
    for (const line of lines) this.pending.push(be.dataRow([line]));
    this.pending.push(be.commandComplete('EXPLAIN'));
  }

  private sendOutcome(o: Outcome, describe: boolean): void {
    if (o.tag === null) {
      this.pending.push(be.emptyQueryResponse);
      return;
    }
    if (describe && o.columns) this.pending.push(encodeRowDescription(o.columns));
    for (const row of o.rows) this.pending.push(encodeDataRow(row));
    this.pending.push(be.commandComplete(o.tag));
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
      for (let i = from; i < from + maxRows; i++) this.pending.push(encodeDataRow(o.rows[i]));
      this.pending.push(be.portalSuspended);
      portal.outcome = o;
      portal.sent = from + maxRows;
      return true;
    }
    const limited = maxRows > 0 || from > 0;
    const tag = limited && o.tag?.startsWith('SELECT ') ? `SELECT ${left}` : o.tag;
    this.sendOutcome({ ...o, rows: from > 0 ? o.rows.slice(from) : o.rows, tag }, false);
    return false;
  }

  private async extended(m: ClientMessage): Promise<void> {
    const info =
      m.type === Frontend.Parse
        ? classifySql(readParse(m.body, 0).sql, { primaryFunctions: this.db.primaryFunctions })
        : null;
    if (info) this.access.see(info, this.pluginSession().inTransaction, this.runner.settings);
    const whole = m.whole;
    const plugins = this.claimsOf(m.type, info, whole);
    if (plugins) {
      const started = performance.now();
      this.pending.push(
        await this.pluginCall(() => plugins.message(m.type, whole, info, this.pluginSession())),
      );
      if (m.type === Frontend.Execute) this.statementDone(null, 'plugin', started);
      return;
    }
    switch (m.type) {
      case Frontend.Parse:
        this.define(m.body);
        this.pending.push(be.parseComplete);
        return;
      case Frontend.Bind: {
        const b = readBind(m.body, 0);
        const stmt = this.statementOf(b.statement);
        const bound = { formats: b.paramFormats, values: b.params, types: stmt.types };
        this.portals.set(b.portal, {
          sql: stmt.sql,
          stmt: stmt.stmt,
          bound,
          params: paramText(bound),
          resultFormats: b.resultFormats,
        });
        this.pending.push(be.bindComplete);
        return;
      }
      case Frontend.Describe: {
        const t = readTarget(m.body, 0);
        if (t.kind === 'S') {
          const stmt = this.statementOf(t.name);
          for (const reply of await this.runner.describe(stmt.sql, stmt.types))
            this.pending.push(encodeMessage(reply));
          return;
        }
        const portal = this.portalOf(t.name);
        portal.outcome ??= await this.runPortal(portal);
        const cols = portal.outcome.columns;
        this.pending.push(cols ? encodeRowDescription(cols) : be.noData);
        return;
      }
      case Frontend.Execute: {
        const { portal: name, maxRows } = readExecute(m.body, 0);
        const portal = this.portalOf(name);
        const started = performance.now();
        this.cache?.ran(classifySql(portal.sql, { primaryFunctions: this.db.primaryFunctions }));
        const outcome = portal.outcome ?? (await this.runPortal(portal));
        if (this.sendBatch(portal, outcome, maxRows)) return;
        portal.outcome = undefined;
        portal.sent = undefined;
        this.statementDone(portal.sql, this.runner.lastRoute, started);
        if (name === '') this.portals.delete(name);
        return;
      }
      case Frontend.Close: {
        const t = readTarget(m.body, 0);
        if (t.kind === 'S') this.statementsByName.delete(t.name);
        else this.portals.delete(t.name);
        this.pending.push(be.closeComplete);
        return;
      }
      case Frontend.FunctionCall:
        throw StatementError.unsupported('the function call protocol is not supported on a sharded database');
      default:
        return;
    }
  }

  /** Keeps the statement a Parse (its body) defines, its text parsed once, here. */
  private define(body: Buffer): void {
    const parsed = readParse(body, 0);
    const p = { name: parsed.name, sql: parsed.sql, types: parsed.paramTypes };
    if (p.name !== '' && this.statementsByName.has(p.name)) {
      throw StatementError.of('duplicateStatement', `prepared statement "${p.name}" already exists`);
    }
    const [piece] = this.parse(p.sql, false);
    this.statementsByName.set(p.name, { ...p, stmt: piece?.stmt ?? null });
  }

  private statementOf(name: string): ClientStatement {
    const stmt = this.statementsByName.get(name);
    if (!stmt) throw StatementError.of('invalidStatementName', `prepared statement "${name}" does not exist`);
    return stmt;
  }

  private portalOf(name: string): Portal {
    const p = this.portals.get(name);
    if (!p) throw StatementError.of('invalidCursorName', `portal "${name}" does not exist`);
    return p;
  }

  private async runPortal(p: Portal): Promise<Outcome> {
    if (!p.stmt) return { columns: null, rows: [], tag: null };
    const deallocated = (p.stmt.DeallocateStmt as { name?: string } | undefined)?.name;
    if (deallocated !== undefined && this.statementsByName.has(deallocated))
      return { columns: null, rows: [], tag: this.deallocateOwn(deallocated) };
    await this.finishJoined(p.stmt);
    this.runner.routeChoice = this.routeChoice(
      classifySql(p.sql, { primaryFunctions: this.db.primaryFunctions }),
    );
    return this.runner.run(p.sql, p.stmt, p.bound, p.params, p.resultFormats);
  }

  /**
   * DEALLOCATE of a statement the client prepared at protocol level: the proxy holds it (the shards know it
   * by other names), so the proxy forgets it; its tag, or 25P02 in a failed block as PostgreSQL answers.
   */
  private deallocateOwn(name: string): string {
    if (this.runner.block?.failed) {
      throw StatementError.of('inFailedTransaction');
    }
    this.statementsByName.delete(name);
    return 'DEALLOCATE';
  }

  /** The plugin statements of this client when a plugin answers this message (by claim, statement or portal). */
  private claimsOf(type: number, info: StatementInfo | null, whole?: Buffer): PluginStatements | null {
    const host = this.db.plugins;
    if (!host?.hasClaims) return null;
    this.pluginWork ??= new PluginStatements(host, this.sessionLog);
    const message = whole ?? Buffer.alloc(0);
    return this.pluginWork.owns(type, message, 0, message.length, info) ? this.pluginWork : null;
  }

  /** A plugin's answer, or its error as a StatementError for the client (an open block fails with it). */
  private async pluginCall(work: () => Promise<Buffer>): Promise<Buffer> {
    try {
      return await work();
    } catch (err) {
      if (this.runner.block && !this.runner.block.implicit) this.runner.block.failed = true;
      if (err instanceof Error) throw err;
      const e = err as ClientError;
      throw StatementError.relay(e.sqlstate, e.message, e.hint);
    }
  }

  /** What plugins may know of this client: one object for the connection. */
  private pluginSession(): SessionView {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const session = this;
    this.pluginView ??= {
      database: this.db.name,
      user: this.user,
      get inTransaction() {
        return session.runner.block !== null && !session.runner.block.implicit;
      },
      get readOnly() {
        return session.access.readOnly(this.inTransaction, session.runner.settings);
      },
      get settings() {
        return session.runner.settings;
      },
      enlist: (p) => {
        if (!this.joined.includes(p)) this.joined.push(p);
      },
    };
    return this.pluginView;
  }

  /** COMMIT or ROLLBACK of a block plugins joined: they finish first; a failed commit rolls the shards back too. */
  private async finishJoined(stmt: Node): Promise<void> {
    const kind = (stmt.TransactionStmt as { kind?: string } | undefined)?.kind;
    if (this.joined.length === 0 || (kind !== 'TRANS_STMT_COMMIT' && kind !== 'TRANS_STMT_ROLLBACK')) return;
    const commit = kind === 'TRANS_STMT_COMMIT' && !this.runner.block?.failed;
    const failure = await finishParticipants(this.joined.splice(0), commit, this.sessionLog);
    if (!failure) return;
    await this.runner.close();
    const message = failure instanceof Error ? failure.message : String(failure);
    const sqlstate = (failure as { sqlstate?: string }).sqlstate ?? errorCodes.internalError.sqlstate;
    throw StatementError.relay(sqlstate, `COMMIT failed, the transaction was rolled back: ${message}`);
  }

  /** The client left or was told to go: its open transaction rolls back on every shard. */
  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.socketOf().destroy();
    this.sessionHooks.onClosed(this);
    this.runner.close().catch(() => {});
    if (this.joined.length > 0) void finishParticipants(this.joined.splice(0), false, this.sessionLog);
  }
}

function sameTypes(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
