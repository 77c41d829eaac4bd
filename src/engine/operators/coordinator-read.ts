// CoordinatorRead: the read of a write across shards, run on the coordinator with the client's settings (the
// coordinator only reads: postgres_fdw has no two-phase commit, so the proxy's own distributed write writes).
import { coordinatorOf, type Coordinator } from '../../backend/coordinator/coordinator.js';
import type { Cluster } from '../../backend/cluster.js';
import { settingsDiff } from '../../backend/server-settings.js';
import type { ShardChannel } from '../../backend/shard-channel.js';
import { runSimple } from '../../backend/shard-exec.js';
import {
  describeMessage,
  parseMessage,
  syncMessage,
  decodeRowDescription,
} from '../../backend/shard-wire.js';
import { StatementError } from '../../backend/statement-error.js';
import { Backend } from '../../protocol/codes.js';
import type { Node } from '../../router/sharding/ast-values.js';
import type { ShardRoute } from '../../router/sharding/shard-route.js';
import type { Column, PlanNode } from '../types.js';
import type { TransactionBlock } from '../transaction/transaction-block.js';
import { blockRefusal, type CoordinatorSession } from './coordinator.js';

/** What a write that reads through the coordinator needs of the session running it. */
export interface CoordinatorAccess {
  readonly coordinator: Coordinator;
  readonly session: CoordinatorSession;
  /** The database's shard count: an INSERT's rows may go to any shard. */
  readonly shardCount: number;
  /** Null, or why the coordinator may not read now (the open block wrote on shards). */
  blockRefusal(): { message: string; hint: string } | null;
  /** The route of a statement the proxy rewrote (a write whose subqueries became constants). */
  route(stmt: Node): ShardRoute;
}

export class CoordinatorRead implements PlanNode {
  readonly children: PlanNode[] = [];

  constructor(
    readonly access: CoordinatorAccess,
    readonly sql: string,
    private readonly relnames: string[],
  ) {}

  describe(): string {
    return `CoordinatorRead database=${this.access.coordinator.describe()} sql=${JSON.stringify(this.sql)}`;
  }

  /** Runs `fn` on a coordinator connection with the client's settings; the client's cancels reach it. */
  async on<T>(fn: (c: ShardChannel) => Promise<T>): Promise<T> {
    const refused = this.access.blockRefusal();
    if (refused) throw StatementError.unsupported(refused.message, refused.hint);
    const c = await this.access.coordinator.channel();
    const session = this.access.session;
    try {
      const why = this.access.coordinator.refusal(this.relnames);
      if (why) throw StatementError.unsupported(why);
      const set = settingsDiff(session.settings, c.conn);
      if (set) await runSimple(c, set).catch(() => c.conn.session.forgetSettings());
      session.running(c.conn);
      return await fn(c);
    } finally {
      session.running(null);
      c.release();
    }
  }
}

/** The result columns of a query, as PostgreSQL describes it before it runs. */
export async function describeColumns(c: ShardChannel, sql: string): Promise<Column[]> {
  const round = await c.round([parseMessage(sql, []), describeMessage('S'), syncMessage]);
  const error = round.messages.find((m) => m.type === Backend.ErrorResponse);
  if (error) throw new StatementError(error.body);
  const description = round.messages.find((m) => m.type === Backend.RowDescription);
  if (!description) throw StatementError.unsupported('the query of a write across shards returns no rows');
  return decodeRowDescription(description.body);
}

/** The coordinator access of a session, or undefined when sharding.coordinator is off. */
export function coordinatorAccess(
  cluster: Cluster,
  session: CoordinatorSession,
  block: () => TransactionBlock | null,
  route: (stmt: Node) => ShardRoute,
): CoordinatorAccess | undefined {
  const coordinator = coordinatorOf(cluster);
  if (!coordinator) return undefined;
  const shardCount = cluster.map.shardCount;
  return { coordinator, session, shardCount, blockRefusal: () => blockRefusal(block()), route };
}
