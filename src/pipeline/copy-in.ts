// COPY FROM STDIN on a sharded database: the planner's CopySplit, run with the client's copy sub-protocol.
import type { CopyClient, Outcome } from '../engine/types.js';
import { noBound } from '../backend/shard-wire.js';
import { noParams, type Node } from '../router/sharding/ast-values.js';
import type { ShardRoute } from '../router/sharding/shard-route.js';
import type { StatementRunner } from './statement-runner.js';

export type { CopyClient };

export function runCopyIn(
  runner: StatementRunner,
  sql: string,
  route: Extract<ShardRoute, { kind: 'copy-in' }>,
  copy: Node,
  client: CopyClient,
): Promise<Outcome> {
  const plan = runner.plan(route, { CopyStmt: copy }, { sql, params: noParams, write: true });
  return runner.execute(plan, sql, { bound: noBound, formats: [], copy: client });
}
