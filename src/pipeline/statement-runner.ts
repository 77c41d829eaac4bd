// Runs one statement of a client on a sharded database: routes it, plans it, and keeps its transaction.
import type { Cluster } from '../backend/cluster.js';
import type { ServerConnection } from '../backend/server-connection.js';
import type { Column, ExecContext, Row, ShardResult } from '../engine/types.js';
import { explainRoute } from '../planner/explain.js';
import { planSelect } from '../planner/plan-select.js';
import { PlanningError } from '../planner/planning-error.js';
import { parseLsn } from '../backend/lsn.js';
import type { Duplex } from 'node:stream';
import { writeOrHold } from '../net/socket-input.js';
import { ValueError } from '../engine/values/value-error.js';
import { inlineParams, toSql } from '../planner/sql-text.js';
import { Backend } from '../protocol/codes.js';
import { classifySql } from '../router/classify.js';
import { findInTree } from '../router/ast-walk.js';
import { nodeKind, noParams, type Node, type ParamValues } from '../router/sharding/ast-values.js';
import { keyParamRoute, type KeyRoute, type KeyRouted } from '../router/sharding/key-param-route.js';
import type { RouteTarget } from '../router/sharding/route-templates.js';
import { routeStatement, type ShardRoute } from '../router/sharding/shard-route.js';
import { settingsApplied, settingsDiff } from '../backend/server-settings.js';
import { ChannelLost, ShardChannel, type BackendMessage } from '../backend/shard-channel.js';
import { ClientReply } from '../backend/client-reply.js';
import { runSimple, runStatement, type ShardAnswer } from '../backend/shard-exec.js';
import { StatementError } from '../backend/statement-error.js';
import { TransactionBlock } from '../engine/transaction/transaction-block.js';
import {
  describeMessage,
  noBound,
  parseMessage,
  syncMessage,
  type BoundParams,
} from '../backend/shard-wire.js';

export interface Outcome {
  columns: Column[] | null;
  rows: Row[];
  /** CommandComplete tag; null for an empty query. */
  tag: string | null;
}

const aborted = () =>
  StatementError.of(
    '25P02',
    'current transaction is aborted, commands ignored until end of transaction block',
  );

function tagCount(tag: string): number {
  return Number(/(\d+)$/.exec(tag)?.[1] ?? 0);
}

function summedTag(answers: ShardAnswer[]): string {
  const first = answers[0].tag;
  const total = answers.reduce((n, a) => n + tagCount(a.tag), 0);
  return first.replace(/\d+$/, String(total));
}

export interface RunnerHooks {
  /** The connection a running statement uses (the first, when several): client cancels go there. */
  running(conn: ServerConnection | null): void;
  cancel(conn: ServerConnection): void;
}

export class StatementRunner {
  block: TransactionBlock | null = null;
  /** Where the last statement run went, for metrics: one shard, several, or nowhere (the proxy answered). */
  lastRoute: 'single-shard' | 'scatter' | 'proxy' = 'proxy';
  /** The open block that ran DDL: catalog facts are dropped again when it ends. */
  private ddlBlock: TransactionBlock | null = null;
  /** Read-your-writes: per shard, the primary's WAL position after this client's last write there. */
  private readonly minLsn = new Map<number, bigint>();
  /** The client's read-your-writes scope (user, or user and application), or null for its connection alone. */
  scope: string | null = null;
  /** The fast path's reply stream, reused statement after statement (one runs at a time). */
  private readonly reply = new ClientReply(() => this.hooks.running(null));

  constructor(
    private readonly hooks: RunnerHooks,
    readonly cluster: Cluster,
    private readonly primaryFunctions: ReadonlySet<string>,
    private readonly startup: Map<string, string>,
    public settings: Map<string, string>,
  ) {}

  /** ReadyForQuery status: idle, in a transaction, or in a failed one. */
  get txStatus(): number {
    if (!this.block || this.block.implicit) return 0x49;
    return this.block.failed ? 0x45 : 0x54;
  }

  /** Tables the statement names, so their key types are known before routing. */
  async prepareMeta(stmt: Node): Promise<void> {
    const tables = tablesOf(stmt);
    // Facts read while DDL ran may be stale and are dropped: read them again (a few times at most).
    for (let tries = 0; tries < 3 && !this.cluster.hasMeta(tables); tries++) {
      if (await this.cluster.loadMeta(tables, this.block?.channels.get(this.cluster.map.defaultShard)))
        return;
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
    if (this.block || !holder.stmt) return null;
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
    if (this.block || value === undefined || value === null) return null;
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
          return;
        }
        waited.release();
        this.passthrough(shard, write, message, client, prepare).then(() => done(null), done);
      },
      (err: Error) => done(err),
    );
    return true;
  }

  /** A connection that already has the client's settings and the named statement the messages use. */
  private readyFor(c: ShardChannel, prepare: { name: string } | undefined): boolean {
    return (!prepare || c.conn.prepared.has(prepare.name)) && settingsApplied(this.settings, c.conn);
  }

  /** Sends the messages on `c` and streams the reply to the client; releases `c` when all of it went. */
  private relayOn(c: ShardChannel, message: Buffer, client: Duplex, done: (err: Error | null) => void): void {
    this.lastRoute = 'single-shard';
    this.hooks.running(c.conn);
    this.reply.start(c, client, done);
    c.relay(message, this.reply);
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
    await this.onShards([shard], false, write, async ([c]) => {
      if (prepare && !c.conn.prepared.has(prepare.name)) {
        const round = await c.round([prepare.parse, syncMessage]);
        const error = round.messages.find((m) => m.type === Backend.ErrorResponse);
        if (error) throw new StatementError(error.body);
        c.conn.prepared.add(prepare.name);
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

  async explain(sql: string, stmt: Node, params: ParamValues): Promise<string[]> {
    await this.prepareMeta(stmt);
    return explainRoute(this.route(stmt, params), stmt, sql, params);
  }

  /** Runs a statement; `params` carries the client's Bind (passed on when the text goes to shards as is). */
  async run(
    sql: string,
    stmt: Node,
    bound: BoundParams,
    params: ParamValues,
    formats: number[],
  ): Promise<Outcome> {
    const k = nodeKind(stmt);
    const kind = k?.[0] ?? '';
    this.lastRoute = 'proxy';
    if (kind === 'TransactionStmt') {
      const block = this.block;
      try {
        return await this.transaction(sql, k![1]);
      } finally {
        if (this.block !== block) this.blockEnded(block);
      }
    }
    if (this.block?.failed) throw aborted();
    if (kind === 'VariableSetStmt' || kind === 'DiscardStmt') return this.setting(sql, bound, formats);
    await this.prepareMeta(stmt);
    const route = this.route(stmt, params);
    const write = classifySql(sql, { primaryFunctions: this.primaryFunctions }).access === 'write';
    this.lastRoute =
      route.kind === 'single' ? 'single-shard' : route.kind === 'unsupported' ? 'proxy' : 'scatter';
    switch (route.kind) {
      case 'unsupported':
        throw StatementError.unsupported(route.message, route.hint);
      case 'single':
        return this.onShards([route.shard], false, route.write || write, async ([c]) => {
          const outcome = outcomeOf([await runStatement(c, sql, bound, formats)]);
          // DEALLOCATE ALL drops the statements the proxy prepared there for its clients too.
          if (kind === 'DeallocateStmt') c.conn.prepared.clear();
          return outcome;
        });
      case 'scatter':
        return this.scatter(stmt, route.shards, params, formats, write);
      case 'multi-write':
        return this.onShards(route.shards, true, true, async (chs) => {
          const answers = await this.onEach(chs, (c) => runStatement(c, sql, bound, formats));
          if (route.count === 'first') return outcomeOf(answers.slice(0, 1));
          return { ...outcomeOf(answers), tag: summedTag(answers) };
        });
      case 'insert-split': {
        const texts = route.parts.map((p) => toSql(inlineParams(p.stmt, params)));
        const shards = route.parts.map((p) => p.shard);
        return this.onShards(shards, true, true, async (chs) => {
          const answers = await this.onEach(chs, (c, i) => runStatement(c, texts[i], noBound, formats));
          return { ...outcomeOf(answers), tag: summedTag(answers) };
        });
      }
      case 'ddl':
        return this.ddl(sql, route.shards, bound);
      case 'copy-in':
        throw StatementError.unsupported(
          'COPY FROM STDIN on a sharded database needs the simple query protocol',
        );
    }
  }

  private async scatter(
    stmt: Node,
    shards: number[],
    params: ParamValues,
    formats: number[],
    write: boolean,
  ): Promise<Outcome> {
    if (formats.some((f) => f !== 0)) {
      throw StatementError.unsupported(
        'binary result format for a query over several shards is not supported',
        'request text results',
      );
    }
    let plan;
    try {
      plan = planSelect(stmt, shards, params);
    } catch (err) {
      if (err instanceof PlanningError) throw StatementError.unsupported(err.message, err.hint);
      throw err;
    }
    return this.onShards(shards, false, write, async (chs) => {
      const ctx: ExecContext = {
        runOnShards: (list, text) =>
          this.onEach(
            list.map((s) => chs[shards.indexOf(s)]),
            (c): Promise<ShardResult> => runStatement(c, text),
          ),
      };
      let result;
      try {
        result = await plan.run(ctx);
      } catch (err) {
        if (err instanceof ValueError) throw StatementError.of(err.sqlstate, err.message);
        throw err;
      }
      return { columns: result.columns, rows: result.rows, tag: `SELECT ${result.rows.length}` };
    });
  }

  /** DDL on every shard; in autocommit each shard commits on its own and failures are reported per shard. */
  private async ddl(sql: string, shards: number[], bound: BoundParams): Promise<Outcome> {
    this.cluster.forgetMeta();
    if (this.block) {
      this.ddlBlock = this.block;
      return this.onShards(shards, true, true, async (chs) => {
        const answers: ShardAnswer[] = [];
        for (const c of chs) answers.push(await runStatement(c, sql, bound));
        return outcomeOf(answers.slice(0, 1));
      });
    }
    const results = await Promise.allSettled(
      shards.map((s) => this.onShards([s], false, true, ([c]) => runStatement(c, sql, bound))),
    );
    this.cluster.forgetMeta();
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ shard: shards[i], err: r.reason as Error }] : [],
    );
    if (failed.length === 0) return outcomeOf([(results[0] as PromiseFulfilledResult<ShardAnswer>).value]);
    const ok = shards.filter((s) => !failed.some((f) => f.shard === s));
    const first = failed[0].err;
    const sqlstate = first instanceof StatementError ? first.sqlstate : '08006';
    const detail = failed.map((f) => `shard ${f.shard}: ${f.err.message}`).join('; ');
    throw StatementError.of(
      sqlstate,
      `statement failed on shard${failed.length > 1 ? 's' : ''} ${failed.map((f) => f.shard).join(', ')}: ${first.message}`,
      ok.length
        ? `it succeeded on shard${ok.length > 1 ? 's' : ''} ${ok.join(', ')}; fix and re-run it there with IF NOT EXISTS / IF EXISTS`
        : undefined,
      detail,
    );
  }

  private async setting(sql: string, bound: BoundParams, formats: number[]): Promise<Outcome> {
    const outcome = await this.onShards([this.cluster.map.defaultShard], false, false, async ([c]) => {
      const answer = outcomeOf([await runStatement(c, sql, bound, formats)]);
      // DISCARD ALL and DISCARD PLANS drop the statements the proxy prepared there for its clients too.
      if (/^\s*discard\b/i.test(sql)) c.conn.prepared.clear();
      return answer;
    });
    const info = classifySql(sql, { primaryFunctions: this.primaryFunctions });
    if (info.resetAll) this.settings = new Map(this.startup);
    for (const s of info.sets ?? []) {
      if (s.sql === null) this.settings.delete(s.name);
      else this.settings.set(s.name, s.sql);
    }
    return outcome;
  }

  private async transaction(sql: string, n: Node): Promise<Outcome> {
    const tag = (t: string): Outcome => ({ columns: null, rows: [], tag: t });
    if (n.chain)
      throw StatementError.unsupported('COMMIT/ROLLBACK AND CHAIN on a sharded database is not supported');
    switch (n.kind) {
      case 'TRANS_STMT_BEGIN':
      case 'TRANS_STMT_START':
        if (this.block?.failed) throw aborted();
        if (!this.block) this.block = new TransactionBlock(sql, false, this.cluster);
        return tag('BEGIN');
      case 'TRANS_STMT_COMMIT': {
        const block = this.block;
        this.block = null;
        if (!block) return tag('COMMIT');
        if (block.failed) {
          await block.rollback();
          return tag('ROLLBACK');
        }
        await block.commit(this.cluster);
        await this.learnPositions(block.wrote);
        return tag('COMMIT');
      }
      case 'TRANS_STMT_ROLLBACK': {
        const block = this.block;
        this.block = null;
        await block?.rollback();
        return tag('ROLLBACK');
      }
      default:
        throw StatementError.unsupported(
          'savepoints and client-prepared transactions on a sharded database are not supported',
          'the proxy commits transactions over several shards with two-phase commit itself',
        );
    }
  }

  /**
   * Runs the statements of one simple Query as PostgreSQL does outside a block: in one implicit transaction,
   * committed (with two-phase commit over several shards) when all succeeded, rolled back when one failed.
   */
  async implicitTransaction(fn: () => Promise<void>): Promise<void> {
    const block = new TransactionBlock('BEGIN', true, this.cluster);
    this.block = block;
    try {
      await fn();
      this.block = null;
      if (block.failed) throw aborted();
      await block.commit(this.cluster);
      await this.learnPositions(block.wrote);
    } catch (err) {
      if (this.block === block) this.block = null;
      await block.rollback();
      throw err;
    } finally {
      this.blockEnded(block);
    }
  }

  /**
   * Catalog facts read by any session while a block's DDL was not committed may be stale (they are read on
   * other connections): they are dropped again once the block ends.
   */
  private blockEnded(block: TransactionBlock | null): void {
    if (!block || block !== this.ddlBlock) return;
    this.ddlBlock = null;
    this.cluster.forgetMeta();
  }

  /** Describe of a statement: its parameters and columns, from the default shard (every shard has the schema). */
  async describe(sql: string, types: number[]): Promise<BackendMessage[]> {
    if (this.block?.failed) throw aborted();
    return this.onShards([this.cluster.map.defaultShard], false, false, async ([c]) => {
      const round = await c.round([parseMessage(sql, types), describeMessage('S'), syncMessage]);
      const error = round.messages.find((m) => m.type === Backend.ErrorResponse);
      if (error) throw new StatementError(error.body);
      return round.messages.filter((m) => m.type !== Backend.ParseComplete);
    });
  }

  /**
   * Runs one statement per shard in parallel. When one shard fails (a cancel reached it, say), the others
   * are cancelled too rather than left running for a result nobody reads.
   */
  private async onEach<T>(chs: ShardChannel[], f: (c: ShardChannel, i: number) => Promise<T>): Promise<T[]> {
    const done = chs.map(() => false);
    try {
      return await Promise.all(
        chs.map(async (c, i) => {
          try {
            return await f(c, i);
          } finally {
            done[i] = true;
          }
        }),
      );
    } catch (err) {
      chs.forEach((c, i) => {
        if (!done[i]) this.hooks.cancel(c.conn);
      });
      throw err;
    }
  }

  /**
   * Runs `fn` with a connection per shard: those of the open transaction block, those of a transaction the
   * proxy opens around a statement writing to several shards (`atomic`), or autocommit ones.
   */
  async onShards<T>(
    shards: number[],
    atomic: boolean,
    write: boolean,
    fn: (chs: ShardChannel[]) => Promise<T>,
  ): Promise<T> {
    if (this.block) {
      const block = this.block;
      try {
        const chs: ShardChannel[] = [];
        for (const s of shards) chs.push(await this.blockChannel(block, s));
        if (write) for (const s of shards) block.wrote.add(s);
        return await this.attached(chs, fn);
      } catch (err) {
        block.failed = true;
        throw err;
      }
    }
    if (atomic && shards.length > 1) {
      const block = new TransactionBlock('BEGIN', true, this.cluster);
      this.block = block;
      try {
        const result = await this.onShards(shards, false, write, fn);
        this.block = null;
        if (block.failed) throw aborted();
        await block.commit(this.cluster);
        await this.learnPositions(block.wrote);
        return result;
      } catch (err) {
        this.block = null;
        await block.rollback();
        throw err;
      }
    }
    const chs = await Promise.all(shards.map((s) => (write ? this.acquire(s) : this.acquireRead(s))));
    try {
      const result = await this.attached(chs, fn);
      if (write) await Promise.all(chs.map((c) => this.learnPosition(c)));
      return result;
    } finally {
      for (const c of chs) c.release();
    }
  }

  /**
   * Read-your-writes per shard: after this client's write commits on a shard with replicas, the primary's
   * WAL position, which a replica must have replayed before it may serve this client's reads of that shard.
   */
  private async learnPosition(c: ShardChannel): Promise<void> {
    if (!this.cluster.replicated(c.shard) || this.cluster.db.config.routing.read_your_writes === 'off')
      return;
    const positions = this.scope === null ? null : this.cluster.writePositions[c.shard];
    positions?.committing(this.scope!);
    const { row } = await c.conn.queryRow('SELECT pg_current_wal_lsn()').catch(() => ({ row: undefined }));
    const lsn = parseLsn(row?.[0]);
    positions?.learnt(this.scope!, lsn);
    const known = this.minLsn.get(c.shard);
    // Unknown after a write: only the primary is sure to have it, until a later write tells a position.
    if (lsn === null) this.minLsn.set(c.shard, unknownPosition);
    else if (known === undefined || known === unknownPosition || lsn > known) this.minLsn.set(c.shard, lsn);
  }

  /** After a transaction block committed: the positions of the shards it wrote, from a primary connection. */
  private async learnPositions(shards: Iterable<number>): Promise<void> {
    for (const shard of shards) {
      if (!this.cluster.replicated(shard)) continue;
      const c = await this.cluster.channel(shard).catch(() => null);
      if (!c) {
        this.minLsn.set(shard, unknownPosition);
        continue;
      }
      try {
        await this.learnPosition(c);
      } finally {
        c.release();
      }
    }
  }

  /**
   * The position a replica of the shard must have replayed to serve this client's reads: its own last write
   * there, and its scope's (an unknown one, while a commit's position is being learnt, means the primary).
   */
  private readAfter(shard: number): bigint | null {
    const own = this.minLsn.get(shard) ?? null;
    if (this.scope === null) return own;
    const positions = this.cluster.writePositions[shard];
    if (positions.pending(this.scope)) return unknownPosition;
    const scoped = positions.minLsn(this.scope);
    if (own === null) return scoped;
    return scoped === null || own >= scoped ? own : scoped;
  }

  /** A connection for a read outside a block, with this client's settings: a replica where one may serve it. */
  private async acquireRead(shard: number): Promise<ShardChannel> {
    const c = await this.cluster.readChannel(shard, this.readAfter(shard));
    return this.applySettings(c);
  }

  private async attached<T>(chs: ShardChannel[], fn: (chs: ShardChannel[]) => Promise<T>): Promise<T> {
    this.hooks.running(chs[0]?.conn ?? null);
    try {
      return await fn(chs);
    } finally {
      this.hooks.running(null);
    }
  }

  private async blockChannel(block: TransactionBlock, shard: number): Promise<ShardChannel> {
    let c = block.channels.get(shard);
    if (c) return c;
    c = await this.acquire(shard);
    block.channels.set(shard, c);
    await runSimple(c, block.begin);
    return c;
  }

  /** A primary connection with this client's session settings applied. */
  private async acquire(shard: number): Promise<ShardChannel> {
    return this.applySettings(await this.cluster.channel(shard));
  }

  private async applySettings(c: ShardChannel): Promise<ShardChannel> {
    const sql = settingsDiff(this.settings, c.conn);
    if (sql) await runSimple(c, sql).catch(() => c.conn.applied.clear());
    return c;
  }

  /** Ends the open transaction (the client left): every shard rolls back. */
  async close(): Promise<void> {
    const block = this.block;
    this.block = null;
    await block?.rollback();
    this.blockEnded(block);
  }
}

/** Statements that may go to a shard as the client sent them: plain SELECT, INSERT, UPDATE, DELETE. */
function travelsAsSent(stmt: Node): boolean {
  const kind = nodeKind(stmt)?.[0];
  return kind === 'SelectStmt' || kind === 'InsertStmt' || kind === 'UpdateStmt' || kind === 'DeleteStmt';
}

/** Tables a statement names, found once per parsed statement (parses are cached, so nodes repeat). */
const tablesByStatement = new WeakMap<Node, string[]>();

function tablesOf(stmt: Node): string[] {
  let tables = tablesByStatement.get(stmt);
  if (tables) return tables;
  tables = [];
  findInTree(stmt, (key, value) => {
    if (key === 'RangeVar' || key === 'relation') {
      const name = (value as { relname?: string }).relname;
      if (name) tables!.push(name);
    }
    return false;
  });
  tablesByStatement.set(stmt, tables);
  return tables;
}

/** A position no replica reaches: reads go to the primary. */
const unknownPosition = 2n ** 64n - 1n;

/** One or more shard answers as the client's result: the first description, rows in shard order. */
export function outcomeOf(answers: ShardAnswer[]): Outcome {
  const first = answers[0];
  return {
    columns: answers.find((a) => a.columns)?.columns ?? null,
    rows: answers.flatMap((a) => a.rows),
    tag: first.empty ? null : first.tag,
  };
}
