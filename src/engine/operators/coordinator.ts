// Coordinator: a read the proxy's own plans cannot answer runs whole on the coordinator database, where
// PostgreSQL plans it over partitioned foreign tables on the shards; its answer comes back as sent.
import { coordinatorOf, type Coordinator } from '../../backend/coordinator/coordinator.js';
import type { Cluster } from '../../backend/cluster.js';
import type { ServerConnection } from '../../backend/server-connection.js';
import type { ShardChannel } from '../../backend/shard-channel.js';
import { settingsDiff } from '../../backend/server-settings.js';
import { runSimple, runStatement } from '../../backend/shard-exec.js';
import { StatementError } from '../../backend/statement-error.js';
import { findInTree } from '../../router/ast-walk.js';
import type { Node } from '../../router/sharding/ast-values.js';
import { outcomeOf } from '../outcome.js';
import { decorrelated } from './coordinator-decorrelate.js';
import { reducedSql } from './coordinator-semijoin.js';
import type { TransactionBlock } from '../transaction/transaction-block.js';
import { statementOf, type ExecContext, type Outcome, type StatementPlan } from '../types.js';

/** What the coordinator takes of the client's session: its settings, and where its cancels go. */
export interface CoordinatorSession {
  readonly settings: Map<string, string>;
  running(conn: ServerConnection | null): void;
}

export class CoordinatorStatement implements StatementPlan {
  readonly children = [];

  constructor(
    readonly coordinator: Coordinator,
    readonly sql: string,
    private readonly relnames: string[],
    private readonly session: CoordinatorSession,
    private readonly stmt: Node | null = null,
  ) {}

  /**
   * The text sent: correlated aggregate subqueries turned into joins (see coordinator-decorrelate.ts), then
   * the key filters of reference tables joined to sharded ones (see coordinator-reduction.ts).
   */
  private sent(c: ShardChannel): Promise<string> {
    if (!this.stmt) return Promise.resolve(this.sql);
    const lookup = (name: string) => this.coordinator.relationFacts(name);
    const flat = decorrelated(this.stmt, lookup);
    return reducedSql(c, flat?.stmt ?? this.stmt, flat?.sql ?? this.sql, lookup);
  }

  describe(): string {
    return `Coordinator database=${this.coordinator.describe()} sql=${JSON.stringify(this.sql)}`;
  }

  /** Runs with the client's parameters, result formats and session settings; its cancels reach the coordinator. */
  async execute(ctx: ExecContext): Promise<Outcome> {
    const { bound, formats } = statementOf(ctx);
    const c = await this.coordinator.channel();
    try {
      const why = this.coordinator.refusal(this.relnames);
      if (why) throw StatementError.unsupported(why);
      const set = settingsDiff(this.session.settings, c.conn);
      if (set) await runSimple(c, set).catch(() => c.conn.session.forgetSettings());
      this.session.running(c.conn);
      return outcomeOf([await runStatement(c, await this.sent(c), bound, formats)]);
    } finally {
      this.session.running(null);
      c.release();
    }
  }

  /** EXPLAIN ROUTE: this line, then what PostgreSQL sends to each shard (its plan's Remote SQL), when it can tell. */
  async explain(): Promise<string[]> {
    const lines = [this.describe()];
    const c = await this.coordinator.channel().catch(() => null);
    if (!c) return lines;
    try {
      const plan = await runSimple(c, `EXPLAIN (VERBOSE, COSTS OFF) ${await this.sent(c)}`);
      let relations = '';
      for (const row of plan.rows) {
        const text = row[0]?.toString() ?? '';
        const scan = /Foreign Scan(?: on)? (.*)$/.exec(text) ?? /Relations: (.*)$/.exec(text);
        if (scan) relations = scan[1].trim();
        const remote = /Remote SQL: (.*)$/.exec(text);
        if (remote) lines.push(`  Push ${relations} sql=${JSON.stringify(remote[1])}`);
      }
    } catch {
      // A statement with parameters cannot be explained without their values: the first line says enough.
    } finally {
      c.release();
    }
    return lines;
  }
}

/**
 * The coordinator statement for a read the proxy's own plans refused, or null when it stays refused (no
 * coordinator, or not a plain read). Refused with 0A000 inside a block that wrote on shards: the
 * coordinator's own connections would not see the block's uncommitted writes.
 */
export function coordinatorPlan(
  cluster: Cluster,
  stmt: Node,
  facts: { sql: string; write: boolean },
  block: TransactionBlock | null,
  session: CoordinatorSession,
): CoordinatorStatement | null {
  const coordinator = coordinatorOf(cluster);
  const select = (stmt as { SelectStmt?: { intoClause?: unknown; lockingClause?: unknown } }).SelectStmt;
  if (!coordinator || !select || facts.write || select.intoClause || hasLocking(stmt)) return null;
  const why = blockRefusal(block);
  if (why) throw StatementError.unsupported(why.message, why.hint);
  return new CoordinatorStatement(coordinator, facts.sql, relnamesOf(stmt), session, stmt);
}

/**
 * Why the coordinator may not read inside this block, or null: its own connections would not see the
 * writes the block made on shards before it commits (a read for a write follows the same rule).
 */
export function blockRefusal(block: TransactionBlock | null): { message: string; hint: string } | null {
  if (!block || block.wrote.size === 0) return null;
  return {
    message:
      'this statement needs the coordinator to read, which cannot see the writes this transaction block made on shards before it commits',
    hint: 'run it before the writes, or after COMMIT',
  };
}

function hasLocking(stmt: Node): boolean {
  return findInTree(stmt, (key) => key === 'lockingClause');
}

export function relnamesOf(stmt: unknown): string[] {
  const names: string[] = [];
  findInTree(stmt, (key, value) => {
    const name = key === 'RangeVar' ? (value as { relname?: string }).relname : undefined;
    if (name) names.push(name);
    return false;
  });
  return names;
}
