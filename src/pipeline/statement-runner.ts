// Runs one statement of a client on a sharded database: routes it, has the planner build its operator tree,
// runs that tree, and keeps the client's transaction block and settings.
import { Backend } from '../protocol/codes.js';
import type { ServerConnection } from '../backend/server-connection.js';
import type { BackendMessage } from '../backend/shard-channel.js';
import { runStatement } from '../backend/shard-exec.js';
import { describeMessage, parseMessage, syncMessage, type BoundParams } from '../backend/shard-wire.js';
import { StatementError } from '../backend/statement-error.js';
import { outcomeOf } from '../engine/outcome.js';
import { TransactionBlock } from '../engine/transaction/transaction-block.js';
import type { CopyClient, ExecContext, Outcome, StatementPlan } from '../engine/types.js';
import {
  CoordinatorStatement,
  coordinatorPlan,
  type CoordinatorSession,
} from '../engine/operators/coordinator.js';
import { coordinatorAccess } from '../engine/operators/coordinator-read.js';
import { explainRoute } from '../planner/explain.js';
import { planStatement, type StatementFacts } from '../planner/plan-statement.js';
import { PlanningError } from '../planner/planning-error.js';
import { classifySql } from '../router/classify.js';
import { nodeKind, type Node, type ParamValues } from '../router/sharding/ast-values.js';
import type { ShardRoute } from '../router/sharding/shard-route.js';
import { FastPath } from './fast-path.js';
import { aborted } from './shard-connections.js';

/** ParameterDescription of a statement the proxy describes itself: the types the client's Parse gave. */
function parameterDescription(types: number[]): BackendMessage {
  const body = Buffer.alloc(2 + 4 * types.length);
  body.writeInt16BE(types.length, 0);
  types.forEach((t, i) => body.writeUInt32BE(t, 2 + 4 * i));
  return { type: Backend.ParameterDescription, body };
}

export type { Outcome };
export type { RunnerHooks } from './shard-connections.js';

/** A statement's own inputs beyond its text, as the client's Bind (or the copy sub-protocol) gave them. */
export interface StatementInputs {
  bound: BoundParams;
  formats: number[];
  copy: CopyClient | null;
}

const read = { atomic: false, write: false };

export class StatementRunner extends FastPath {
  /** The open block that ran DDL: catalog facts are dropped again when it ends. */
  private ddlBlock: TransactionBlock | null = null;
  /** A route hint or SET polyproxy.route for the next run(): reads on the primary or a replica, or null. */
  routeChoice: 'primary' | 'replica' | null = null;

  /** ReadyForQuery status: idle, in a transaction, or in a failed one. */
  get txStatus(): number {
    if (!this.block || this.block.implicit) return 0x49;
    return this.block.failed ? 0x45 : 0x54;
  }

  /** The route of a statement and what the planner needs beside it. */
  private async routed(sql: string, stmt: Node, params: ParamValues): Promise<[ShardRoute, StatementFacts]> {
    await this.prepareMeta(stmt);
    const route = this.route(stmt, params);
    const write = this.routeChoice
      ? this.routeChoice === 'primary'
      : classifySql(sql, { primaryFunctions: this.primaryFunctions }).access === 'write';
    // A write whose rows or values need a read across shards: the coordinator reads for it.
    const coordinator =
      route.kind === 'write-from-read'
        ? coordinatorAccess(
            this.cluster,
            this.coordinatorSession(),
            () => this.block,
            (s) => this.route(s, params),
          )
        : undefined;
    return [route, { sql, params, write, coordinator }];
  }

  private coordinatorSession(): CoordinatorSession {
    return { settings: this.settings, running: (c: ServerConnection | null) => this.hooks.running(c) };
  }

  /** EXPLAIN ROUTE: the lines of the operator tree run() would run. */
  async explain(sql: string, stmt: Node, params: ParamValues): Promise<string[]> {
    const [route, facts] = await this.routed(sql, stmt, params);
    let plan: StatementPlan | null = null;
    try {
      plan = this.plan(route, stmt, facts);
    } catch {
      // explainRoute() tells why it is refused.
    }
    return plan instanceof CoordinatorStatement ? plan.explain() : explainRoute(route, stmt, facts);
  }

  /** Runs a statement; `params` carries the client's Bind (passed on when the text goes to shards as is). */
  async run(
    sql: string,
    stmt: Node,
    bound: BoundParams,
    params: ParamValues,
    formats: number[],
  ): Promise<Outcome> {
    if (this.gate.closed && !this.block) await this.gate.pass();
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
    const [route, facts] = await this.routed(sql, stmt, params);
    this.lastRoute =
      route.kind === 'single'
        ? 'single-shard'
        : route.kind === 'unsupported'
          ? 'proxy'
          : route.kind === 'write-from-read'
            ? 'coordinator'
            : 'scatter';
    return this.execute(this.plan(route, stmt, facts), sql, { bound, formats, copy: null });
  }

  /** The operator tree of a routed statement; a statement the planner cannot run across shards is refused. */
  plan(route: ShardRoute, stmt: Node, facts: StatementFacts): StatementPlan {
    try {
      return planStatement(route, stmt, facts);
    } catch (err) {
      if (!(err instanceof PlanningError)) throw err;
      // PostgreSQL answers the reads the proxy's own plans cannot, on the coordinator when there is one.
      const via = coordinatorPlan(this.cluster, stmt, facts, this.block, this.coordinatorSession());
      if (!via) throw StatementError.unsupported(err.message, err.hint);
      this.lastRoute = 'coordinator';
      return via;
    }
  }

  /** Runs a plan on this client's shard connections (its block's, when one is open). */
  execute(plan: StatementPlan, sql: string, inputs: StatementInputs): Promise<Outcome> {
    const ctx: ExecContext = {
      runOnShards: (list, text) =>
        this.onShards(list, read, (chs) => this.onEach(chs, (c) => runStatement(c, text))),
      statement: {
        sql,
        ...inputs,
        inBlock: this.block !== null,
        onShards: (shards, use, fn) => this.onShards(shards, use, fn),
        onEach: (chs, f) => this.onEach(chs, f),
        catalogChanged: () => {
          this.cluster.forgetMeta();
          if (this.block) this.ddlBlock = this.block;
        },
      },
    };
    return plan.execute(ctx);
  }

  private async setting(sql: string, bound: BoundParams, formats: number[]): Promise<Outcome> {
    const outcome = await this.onShards([this.cluster.map.defaultShard], read, async ([c]) => {
      const answer = outcomeOf([await runStatement(c, sql, bound, formats)]);
      // DISCARD ALL and DISCARD PLANS drop the statements the proxy prepared there for its clients too.
      if (/^\s*discard\b/i.test(sql)) c.conn.session.forgetPrepared();
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
    if (this.gate.closed && !this.block) await this.gate.pass();
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

  /**
   * Parse of a statement, as PostgreSQL checks it: in a failed block only a statement that ends the block
   * (COMMIT, ROLLBACK, PREPARE TRANSACTION) may be parsed; anything else is refused with 25P02 at once.
   */
  checkParse(sql: string): void {
    if (!this.block?.failed) return;
    const t = classifySql(sql, { primaryFunctions: this.primaryFunctions }).transaction;
    if (t?.kind !== 'commit' && t?.kind !== 'rollback') throw aborted();
  }

  /** Describe of a statement: its parameters and columns, from the default shard (every shard has the schema). */
  async describe(sql: string, types: number[]): Promise<BackendMessage[]> {
    if (this.block?.failed) {
      // As PostgreSQL: a failed block still describes a statement with no result columns (the client's
      // ROLLBACK, prepared as any other statement by drivers such as postgres.js); only row sources are refused.
      if (!classifySql(sql, { primaryFunctions: this.primaryFunctions }).transaction) throw aborted();
      return [parameterDescription(types), { type: Backend.NoData, body: Buffer.alloc(0) }];
    }
    return this.onShards([this.cluster.map.defaultShard], read, async ([c]) => {
      const round = await c.round([parseMessage(sql, types), describeMessage('S'), syncMessage]);
      const error = round.messages.find((m) => m.type === Backend.ErrorResponse);
      if (error) throw new StatementError(error.body);
      return round.messages.filter((m) => m.type !== Backend.ParseComplete);
    });
  }

  /** Ends the open transaction (the client left): every shard rolls back. */
  async close(): Promise<void> {
    const block = this.block;
    this.block = null;
    await block?.rollback();
    this.blockEnded(block);
  }
}
