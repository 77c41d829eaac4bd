// The plan of any statement on a sharded database: its route turned into the operator tree that runs.
import { Broadcast } from '../engine/operators/broadcast.js';
import type { CoordinatorAccess } from '../engine/operators/coordinator-read.js';
import { CopySplit } from '../engine/operators/copy-split.js';
import { DistributedWrite } from '../engine/operators/distributed-write.js';
import { Gather } from '../engine/operators/gather.js';
import { ShardStatement } from '../engine/operators/shard-statement.js';
import { SingleShard } from '../engine/operators/single-shard.js';
import { SplitInsert } from '../engine/operators/split-insert.js';
import type { StatementPlan } from '../engine/types.js';
import { nodeKind, type Node, type ParamValues } from '../router/sharding/ast-values.js';
import type { ShardRoute } from '../router/sharding/shard-route.js';
import { planSelect } from './plan-select.js';
import { PlanningError } from './planning-error.js';
import { planWriteFromRead } from './plan-write-from-read.js';
import { inlineParams, toSql } from './sql-text.js';

export interface StatementFacts {
  /** The client's text, as it goes to shards that run it unchanged. */
  sql: string;
  params: ParamValues;
  /** The classifier says it writes (a volatile function, a locking read): primaries only. */
  write: boolean;
  /** The coordinator, when there is one, for writes that need a read across shards. */
  coordinator?: CoordinatorAccess;
}

/** The operator tree of a routed statement; a PlanningError when it cannot run across shards (0A000). */
export function planStatement(route: ShardRoute, stmt: Node, facts: StatementFacts): StatementPlan {
  const { sql, params, write } = facts;
  switch (route.kind) {
    case 'single': {
      const deallocates = nodeKind(stmt)?.[0] === 'DeallocateStmt';
      return new SingleShard(route.shard, route.write || write, route.reason, sql, deallocates);
    }
    case 'scatter':
      return new Gather(planSelect(stmt, route.shards, params), route.shards, route.reason, write);
    case 'multi-write':
      return new DistributedWrite(route.shards, route.count, route.reason, sql);
    case 'insert-split': {
      const parts = route.parts.map((p) => new ShardStatement(p.shard, toSql(inlineParams(p.stmt, params))));
      return new SplitInsert(parts, route.reason);
    }
    case 'ddl':
      return new Broadcast(route.shards, route.reason, sql);
    case 'copy-in':
      return new CopySplit(
        route.shards,
        route.keyIndex,
        route.reason,
        sql,
        stmt.CopyStmt as Node,
        route.placement,
        route.keyType,
      );
    case 'write-from-read': {
      if (!facts.coordinator) throw new PlanningError(route.refusal.message, route.refusal.hint);
      const shards = Array.from({ length: facts.coordinator.shardCount }, (_, i) => i);
      return planWriteFromRead(route.write, facts.coordinator, shards, params);
    }
    case 'unsupported':
      throw new PlanningError(route.message, route.hint);
  }
}
