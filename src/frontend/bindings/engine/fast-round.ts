// The engine binding's fast path: a statement for one shard goes as the client's bytes and its reply streams back undecoded.
import { ownedCopy, sameBytes } from '../../../net/socket-input.js';
import { Frontend } from '../../../protocol/codes.js';
import type { StatementInfo } from '../../../router/classify.js';
import type { Node } from '../../../router/sharding/ast-values.js';
import { templateOf, templateParams, type RouteTarget } from '../../../router/sharding/route-templates.js';
import { parseSql } from '../../../sql/parser.js';
import { mayBeCached } from '../../cache-round.js';
import { paramText } from '../../rounds/param-text.js';
import {
  passRound,
  roundBytes,
  serverStatement,
  type ClientMessage,
  type PassRound,
} from '../../rounds/passthrough-round.js';
import { boundParamText, scanRound, shardRoundBytes, type RoundLayout } from '../../rounds/round-scan.js';
import { TemplateShape } from '../../rounds/template-shape.js';
import { sameTypes, type ClientStatement, type EngineState } from './engine-state.js';

type Prepare = { name: string; parse: Buffer } | undefined;

export class FastRound {
  /** The fast path's statements in flight (several when pipelined) and when each was sent, for their metrics. */
  private readonly flights: { info: StatementInfo; started: number }[] = [];
  /** Inside startThrough(): a statement that ends at once leaves the next one to it. */
  private starting = false;
  /** The last Query's template, so the next one like it is matched rather than scanned. */
  private readonly shape = new TemplateShape();

  constructor(private readonly s: EngineState) {
    s.runner.relayedAfterWait = () => s.pump();
  }

  /**
   * The fast path, from idle: a Query like one routed before but for its literals, or a whole
   * extended-protocol round for one statement, that routes to one shard outside a block goes as the client's
   * bytes, with no promise on the way when a connection is idle there (else it waits for the pool's next
   * one). False when the first message needs the general path.
   */
  startFast(): boolean {
    if (!this.open()) return false;
    const m = this.s.inbox[0];
    if (m.type === Frontend.Query) return this.fastQuery(m.text(), m.whole, 1);
    if (m.type === Frontend.Parse || m.type === Frontend.Bind) return this.fastRound();
    return false;
  }

  /**
   * Pipelining: while the fast path's rounds are in flight, the rounds waiting behind them that would take
   * the fast path to the same shard connection follow at once, their replies after the earlier ones. The
   * first round that needs anything else waits until every reply came, as before.
   */
  appendWaiting(): void {
    const s = this.s;
    while (this.flights.length > 0 && s.inbox.length > 0 && s.pending.length === 0 && !s.host.closed) {
      if (!this.startFast()) return;
    }
  }

  /** Statements may go by a fast path: no failed round to skip, no open block, nothing plugins claim. */
  open(): boolean {
    const s = this.s;
    return !s.skipping && !s.runner.block && s.joined.length === 0 && !s.db.plugins?.hasClaims;
  }

  /**
   * The fast path straight from a read, before any framing, when the session is idle and the read is
   * exactly one Query or one extended-protocol round (as drivers send a statement): false, with nothing
   * consumed, when it is anything else or must take the framed paths.
   */
  startDirect(chunk: Buffer): boolean {
    if (this.s.host.closed || !this.open()) return false;
    const n = chunk.length;
    if (n >= 6 && chunk[0] === Frontend.Query && chunk.readInt32BE(1) === n - 1 && chunk[n - 1] === 0)
      return this.fastQuery(chunk.toString('utf8', 5, n - 1), chunk, 0, true);
    return this.directRound(chunk);
  }

  /** startDirect() for a round: a statement whose shard one parameter decides, known from earlier rounds. */
  private directRound(chunk: Buffer): boolean {
    const s = this.s;
    const layout = scanRound(chunk);
    const statement = layout && this.directStatement(chunk, layout);
    const keyRoute = statement && s.runner.keyRouteOf(statement);
    if (!layout || !statement || !keyRoute) return false;
    const info = s.infoOf(statement);
    const key = boundParamText(chunk, layout, keyRoute.param, statement.types);
    const target = s.runner.shardByKey(keyRoute, key, info.access === 'write');
    if (!target) return false;
    // A Bind of an earlier statement names its copy on shard connections, prepared where missing.
    const prepare =
      layout.parse >= 0 ? undefined : (statement.server ??= serverStatement(statement.sql, statement.types));
    if (!this.startThrough(0, target, shardRoundBytes(chunk, layout, prepare?.name), prepare, info))
      return false;
    s.portals.delete('');
    return true;
  }

  /** The statement a round in a read runs, when the session knows it already: by its Parse's bytes, or by name. */
  private directStatement(chunk: Buffer, layout: RoundLayout): ClientStatement | null {
    const s = this.s;
    if (layout.parse < 0) {
      const named = s.statementsByName.get(chunk.toString('utf8', layout.nameStart, layout.nameEnd));
      return named?.stmt ? named : null;
    }
    // The same unnamed Parse as the last round's (drivers repeat it): that round's statement.
    const last = s.lastParse;
    const current = s.statementsByName.get('');
    if (!last || !current?.stmt || !sameBytes(chunk, 5, layout.bind, last.body)) return null;
    return current.sql === last.parse.sql && sameTypes(current.types, last.parse.paramTypes) ? current : null;
  }

  /** A Query whose template was learned: to its shard as the client's bytes (`copy` them when they are a read's). */
  private fastQuery(sql: string, whole: Buffer, count: number, copy = false): boolean {
    const s = this.s;
    // A simple query drops the unnamed statement, as in PostgreSQL.
    s.statementsByName.delete('');
    if (s.runner.settings.has('standard_conforming_strings')) return false;
    const t = this.shape.match(sql) ?? templateOf(sql);
    const learned = t && s.templates.get(t);
    if (!learned) return false;
    this.shape.remember(t);
    // A template is learned from one plain statement; its classification is kept when no literal shaped it.
    const info = learned.info ?? s.classify(sql);
    if (info.explainRoute !== undefined || info.reason.startsWith('route-override')) return false;
    if (info.reason === 'deallocate') return false;
    const target = s.runner.singleShardNow(learned, info.access === 'write', templateParams(t));
    return (
      target !== null && this.startThrough(count, target, copy ? Buffer.from(whole) : whole, undefined, info)
    );
  }

  private fastRound(): boolean {
    const s = this.s;
    const plan = this.roundPlan(passRound(s.inbox, 0, s.lastParse));
    if (!plan) return false;
    const { round, statement, info } = plan;
    const target = s.runner.singleShardNow(statement, info.access === 'write', plan.params);
    if (!target) return false;
    const first = s.inbox[0];
    const rest = s.inbox.slice(1, round.following + 1);
    const { bytes, prepare } = this.roundMessages(round, statement, first, rest);
    if (!this.startThrough(round.following + 1, target, bytes, prepare, info)) return false;
    this.adoptRound(round, statement, first);
    return true;
  }

  /**
   * The extended-protocol fast path of the general path: a whole round for one statement on one shard (in
   * autocommit, or joining the open block's transaction there) goes as the client's bytes (its Bind renamed
   * when it uses an earlier statement), the reply comes back undecoded. False, with nothing consumed, for
   * any other round.
   */
  async roundThrough(m: ClientMessage): Promise<boolean> {
    const s = this.s;
    if (s.joined.length > 0 || s.db.plugins?.hasClaims) return false;
    const plan = this.roundPlan(passRound([m, ...s.inbox], 0, s.lastParse));
    if (!plan || !s.mayPassThrough(plan.info)) return false;
    const { round, statement, info } = plan;
    const target = s.chosen(
      await s.runner.passthroughShard(statement.stmt!, info.access === 'write', plan.params),
      info,
    );
    if (!target) return false;
    const rest = s.inbox.splice(0, round.following);
    this.adoptRound(round, statement, m);
    const { bytes, prepare } = this.roundMessages(round, statement, m, rest);
    const started = performance.now();
    s.flushOut();
    try {
      await s.runner.passthrough(target.shard, target.write, bytes, s.socket, prepare);
      s.statementDone(info, 'single-shard', started);
    } catch (err) {
      s.sendError(err);
      s.ready();
    }
    return true;
  }

  /** A passthrough round with its statement, classification and parameters, or null when it is none. */
  private roundPlan(round: PassRound | null) {
    const statement = round && this.roundStatement(round);
    if (!round || !statement) return null;
    const bound = { formats: round.bind.paramFormats, values: round.bind.params, types: statement.types };
    return { round, statement, info: this.s.infoOf(statement), params: paramText(bound) };
  }

  /** After a round went to a shard: its unnamed portal is gone, its unnamed statement is the client's. */
  private adoptRound(round: PassRound, statement: ClientStatement, first: ClientMessage): void {
    const s = this.s;
    s.portals.delete('');
    if (!round.parse) return;
    s.statementsByName.set('', statement);
    if (s.lastParse?.parse !== round.parse)
      s.lastParse = { body: ownedCopy(first.buf, first.start + 5, first.end), parse: round.parse };
  }

  /** The statement a passthrough round runs: the one it parses, or the earlier one its Bind names. */
  private roundStatement(round: PassRound): ClientStatement | null {
    const s = this.s;
    if (!round.parse) {
      const named = s.statementsByName.get(round.bind.statement);
      return named?.stmt ? named : null;
    }
    const { sql, paramTypes: types } = round.parse;
    // Drivers send the same unnamed Parse round after round: its parse and classification carry over.
    const last = s.statementsByName.get('');
    if (last?.stmt && last.sql === sql && sameTypes(last.types, types)) return last;
    const parsed = parseSql(sql);
    if (!parsed.ok || parsed.statements.length !== 1) return null;
    return { name: '', sql, types, stmt: parsed.statements[0] as Node };
  }

  /** A round's bytes for the shard: as the client sent them, or with the Bind naming the statement's server-side copy. */
  private roundMessages(
    round: PassRound,
    statement: ClientStatement,
    first: ClientMessage,
    rest: ClientMessage[],
  ): { bytes: Buffer; prepare?: Prepare } {
    if (round.parse) return { bytes: roundBytes(first, rest) };
    statement.server ??= serverStatement(statement.sql, statement.types);
    return { bytes: roundBytes(first, rest, statement.server.name), prepare: statement.server };
  }

  /** Takes `count` messages off the inbox and relays them to the target shard, unless the general path must. */
  private startThrough(
    count: number,
    target: RouteTarget,
    bytes: Buffer,
    prepare: Prepare,
    info: StatementInfo,
  ): boolean {
    const s = this.s;
    // A read the cache may answer, or a write the commit hooks must hear of, takes the general path.
    if (!s.mayPassThrough(info) || (s.cache?.looksUp && mayBeCached(info))) return false;
    target = s.chosen(target, info)!;
    if (this.flights.length > 0) return this.appendThrough(count, target, bytes, prepare, info);
    this.flights.push({ info, started: performance.now() });
    s.running = true;
    this.starting = true;
    const ok = s.runner.passthroughNow(
      target.shard,
      target.write,
      bytes,
      s.socket,
      prepare,
      this.afterThrough,
    );
    this.starting = false;
    if (!ok) {
      this.flights.length = 0;
      s.running = false;
      return false;
    }
    s.flushOut();
    // A round straight from a read was never in the inbox (and splice() makes an array even of nothing).
    if (count > 0) s.inbox.splice(0, count);
    // A connection found lost at once ends the statement before the messages left the inbox.
    if (!s.running) s.pump();
    return true;
  }

  /** startThrough() for a round behind others in flight: pipelined on their connection, or false. */
  private appendThrough(
    count: number,
    target: RouteTarget,
    bytes: Buffer,
    prepare: Prepare,
    info: StatementInfo,
  ): boolean {
    const s = this.s;
    if (!s.runner.appendNow(target.shard, target.write, bytes, prepare, this.afterThrough)) return false;
    this.flights.push({ info, started: performance.now() });
    s.inbox.splice(0, count);
    return true;
  }

  /** A statement of the fast path is over: its reply, or its error, went to the client. */
  private readonly afterThrough = (err: Error | null): void => {
    const s = this.s;
    const flight = this.flights.shift();
    if (err) {
      s.sendError(err);
      s.ready();
    } else if (flight) s.statementDone(flight.info, 'single-shard', flight.started);
    if (this.flights.length > 0) {
      // The next pipelined statement runs on the shard from now: query_timeout counts from here.
      s.nextStatement();
      return;
    }
    s.running = false;
    if (!this.starting) s.pump();
  };
}
