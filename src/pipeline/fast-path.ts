// The fast path of a sharded database: a statement that routes to one shard travels as the client's own
// bytes and its reply streams back undecoded; also the routing and catalog look-ups the pipeline shares.
import { Backend } from '../protocol/codes.js';
import { writeOrHold } from '../net/socket-input.js';
import { ClientReply } from '../backend/client-reply.js';
import { settingsApplied } from '../backend/server-settings.js';
import type { ServerConnection } from '../backend/server-connection.js';
import { ChannelLost, ShardChannel } from '../backend/shard-channel.js';
import { syncMessage } from '../backend/shard-wire.js';
import { StatementError } from '../backend/statement-error.js';
import { noParams, type Node, type ParamValues } from '../router/sharding/ast-values.js';
import { keyParamRoute, type KeyRoute, type KeyRouted } from '../router/sharding/key-param-route.js';
import type { RouteTarget } from '../router/sharding/route-templates.js';
import { routeStatement, type ShardRoute } from '../router/sharding/shard-route.js';
import type { Duplex } from 'node:stream';
import { ShardConnections } from './shard-connections.js';
import { tablesOf, travelsAsSent } from './statement-tables.js';

export class FastPath extends ShardConnections {
  /** Where the last statement run went, for metrics: one shard, several, or nowhere (the proxy answered). */
  lastRoute: 'single-shard' | 'scatter' | 'coordinator' | 'proxy' = 'proxy';
  /** The fast path's reply stream, reused connection after connection (one relays at a time). */
  private readonly reply = new ClientReply(() => this.relayEnded());
  /** The connection the fast path's replies come from, while they come, and whether it is for writes. */
  private relaying: ServerConnection | null = null;
  private relayWrite = false;
  /** A round that waited for a connection went on it: rounds the client sent meanwhile may be pipelined. */
  relayedAfterWait: () => void = () => {};

  /** The client does not take the fast path's reply, which holds its shard back (no fault of the shard's). */
  get replyHeld(): boolean {
    return this.reply.held;
  }

  /** Tables the statement names, so their key types are known before routing. */
  async prepareMeta(stmt: Node): Promise<void> {
    const tables = tablesOf(stmt);
    // Facts read while DDL ran may be stale and are dropped: read them again (a few times at most).
    for (let tries = 0; tries < 3 && !this.cluster.hasMeta(tables); tries++) {
      if (await this.cluster.loadMeta(tables, this.block?.channels.get(this.cluster.map.defaultShard))) break;
    }
    // Routing follows at once: during a cutover, by the shard map in force once the gate opens.
    if (this.gate.closed && !this.block) {
      await this.gate.pass();
      await this.prepareMeta(stmt);
    }
  }

  route(stmt: Node, params: ParamValues): ShardRoute {
    const cluster = this.cluster;
    const views = (name: string) => cluster.viewOf(name);
    return routeStatement(stmt, { map: cluster.map, meta: (t) => cluster.metaOf(t), params, views });
  }

  /**
   * The shard of a statement that may travel as the client's own bytes: one plain SELECT, INSERT, UPDATE or
   * DELETE that routes to exactly one shard, in autocommit or in an open block; null for anything else.
   */
  async passthroughShard(
    stmt: Node,
    writes: boolean,
    params: ParamValues = noParams,
  ): Promise<{ shard: number; write: boolean } | null> {
    // Inside a block the statement joins the block's transaction on that shard; a failed block answers 25P02.
    if (this.block && (this.block.failed || this.block.implicit)) return null;
    if (!travelsAsSent(stmt)) return null;
    await this.prepareMeta(stmt);
    const route = this.route(stmt, params);
    if (route.kind !== 'single') return null;
    return { shard: route.shard, write: route.write || writes };
  }

  /** passthroughShard() without waiting: null also when a table's catalog details are not loaded yet. */
  singleShardNow(holder: KeyRouted, writes: boolean, params: ParamValues): RouteTarget | null {
    if (this.block || !holder.stmt || this.gate.closed) return null;
    const keyRoute = this.keyRouteOf(holder);
    if (keyRoute === undefined) return null;
    const byKey = keyRoute && this.shardByKey(keyRoute, params(keyRoute.param), writes);
    if (byKey) return byKey;
    if (!travelsAsSent(holder.stmt)) return null;
    const route = this.route(holder.stmt, params);
    if (route.kind !== 'single') return null;
    return { shard: route.shard, write: route.write || writes };
  }

  /**
   * How a statement's shard follows from one of its parameters, worked out once per holder (a client's
   * statement, a learned template) and kept while the catalog details it used hold: null when no one
   * parameter decides it, undefined when a table's details are not loaded yet.
   */
  keyRouteOf(holder: KeyRouted): KeyRoute | null | undefined {
    const version = this.cluster.metaVersion;
    const cached = holder.keyRoute;
    if (cached && cached.version === version) return cached.route;
    const stmt = holder.stmt;
    if (!stmt || !travelsAsSent(stmt)) return null;
    if (!this.cluster.hasMeta(tablesOf(stmt))) return undefined;
    const r = keyParamRoute(stmt, this.cluster.map);
    const meta = r && this.cluster.metaOf(r.placement.table);
    const route = r && meta ? { ...r, keyType: meta.keyType } : null;
    holder.keyRoute = { version, route };
    return route;
  }

  /** The shard a key route's value picks, outside a block; null when the router must look (a NULL key, say). */
  shardByKey(
    route: KeyRoute,
    value: string | bigint | null | undefined,
    writes: boolean,
  ): RouteTarget | null {
    if (this.block || value === undefined || value === null || this.gate.closed) return null;
    let shard: number | null;
    try {
      shard = route.placement.shardOf(value, route.keyType);
    } catch {
      return null;
    }
    // No range or list holds the key: no row matches, and the router sends such statements to the default shard.
    return { shard: shard ?? this.cluster.map.defaultShard, write: route.write || writes };
  }

  /**
   * passthrough() without the general path's promises: false, with nothing sent, when passthrough() must
   * run instead (a read-your-writes position must be learnt after it, or no server fits). Else the messages
   * go on a connection of the shard: an idle one at once, or the next one the primary's pool frees, and
   * `done` follows once the reply went to the client. A connection that lacks the client's settings or
   * `prepare` hands the messages to passthrough(), which sets both up first.
   */
  passthroughNow(
    shard: number,
    write: boolean,
    message: Buffer,
    client: Duplex,
    prepare: { name: string; parse: Buffer } | undefined,
    done: (err: Error | null) => void,
  ): boolean {
    if (this.block) return false;
    if (write && this.cluster.replicated(shard) && this.cluster.db.config.routing.read_your_writes !== 'off')
      return false;
    const c = this.cluster.channelNow(shard, write, this.readAfter(shard));
    this.relayWrite = write;
    if (c) {
      if (!this.readyFor(c, prepare)) {
        c.release();
        return false;
      }
      this.relayOn(c, message, client, done);
      return true;
    }
    // Waiting here rather than on the general path keeps a busy pool from sending every statement that
    // found no idle connection through the planner's slower, promise-heavy machinery.
    const pool = this.cluster.primaryPoolFor(shard, write);
    if (!pool) return false;
    this.lastRoute = 'single-shard';
    pool.acquire().then(
      (conn) => {
        const waited = new ShardChannel(shard, conn, pool);
        // A client that left while it waited had nothing acknowledged: its statement is not run.
        if (client.destroyed) {
          waited.release();
          done(new ChannelLost('the client disconnected while its statement waited for a connection'));
          return;
        }
        if (this.readyFor(waited, prepare)) {
          this.relayOn(waited, message, client, done);
          this.relayedAfterWait();
          return;
        }
        waited.release();
        this.passthrough(shard, write, message, client, prepare).then(() => done(null), done);
      },
      (err: Error) => done(err),
    );
    return true;
  }

  /**
   * Pipelines a round after those the fast path has in flight: sent at once on their connection when it
   * serves the same shard the same way and has what the round needs; false, with nothing sent, otherwise.
   */
  appendNow(
    shard: number,
    write: boolean,
    message: Buffer,
    prepare: { name: string } | undefined,
    done: (err: Error | null) => void,
  ): boolean {
    const c = this.reply.current;
    if (!c || c.lost || this.block || c.shard !== shard) return false;
    if (write !== this.relayWrite && this.cluster.replicated(shard)) return false;
    if (!this.readyFor(c, prepare)) return false;
    this.reply.append(done);
    c.relay(message, this.reply);
    return true;
  }

  /** A connection that already has the client's settings and the named statement the messages use. */
  private readyFor(c: ShardChannel, prepare: { name: string } | undefined): boolean {
    return (!prepare || c.conn.session.preparedHas(prepare.name)) && settingsApplied(this.settings, c.conn);
  }

  /** Sends the messages on `c` and streams the reply to the client; releases `c` when all of it went. */
  private relayOn(c: ShardChannel, message: Buffer, client: Duplex, done: (err: Error | null) => void): void {
    this.lastRoute = 'single-shard';
    this.relaying = c.conn;
    this.inFlight.add(c.conn);
    this.hooks.running(c.conn);
    this.reply.start(c, client, done);
    c.relay(message, this.reply);
  }

  private relayEnded(): void {
    if (this.relaying) this.inFlight.delete(this.relaying);
    this.relaying = null;
    this.hooks.running(null);
  }

  /**
   * Sends the client's own messages (a Query, or an extended-protocol round up to its Sync) to one shard
   * and streams the reply, ReadyForQuery included, back undecoded. `prepare` is a named statement the
   * messages use, prepared first on a connection that lacks it (its ParseComplete is not the client's).
   */
  async passthrough(
    shard: number,
    write: boolean,
    message: Buffer,
    client: Duplex,
    prepare?: { name: string; parse: Buffer },
  ): Promise<void> {
    this.lastRoute = 'single-shard';
    await this.onShards([shard], { atomic: false, write }, async ([c]) => {
      if (prepare && !c.conn.session.preparedHas(prepare.name)) {
        const round = await c.round([prepare.parse, syncMessage]);
        const error = round.messages.find((m) => m.type === Backend.ErrorResponse);
        if (error) throw new StatementError(error.body);
        c.conn.session.statementPrepared(prepare.name);
      }
      let held: Promise<void> | null = null;
      const status = await c.passthrough(message, (chunk) => {
        // The chunk lies in the shard connection's read buffer: that socket waits until the client took it.
        let resume!: () => void;
        const drained = new Promise<void>((r) => (resume = r));
        if (writeOrHold(client, chunk, c.conn.socket, resume)) held = drained;
      });
      // The shard's transaction failed: so does the client's block, on every shard (the client saw 'E').
      if (status === 0x45 && this.block) this.block.failed = true;
      if (held) await held;
    });
  }
}
