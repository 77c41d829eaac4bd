// ShardStatement: one SQL text of the proxy's making (parameters inlined) for one shard, part of a split write.
import type { ShardAnswer } from '../../backend/shard-exec.js';
import { runStatement } from '../../backend/shard-exec.js';
import type { ShardChannel } from '../../backend/shard-channel.js';
import { noBound } from '../../backend/shard-wire.js';
import type { PlanNode } from '../types.js';

export class ShardStatement implements PlanNode {
  readonly children: PlanNode[] = [];

  constructor(
    readonly shard: number,
    readonly sql: string,
  ) {}

  describe(): string {
    return `ShardStatement shard=${this.shard} sql=${JSON.stringify(this.sql)}`;
  }

  /** Runs on `c`, a connection of this part's shard. */
  runOn(c: ShardChannel, formats: number[]): Promise<ShardAnswer> {
    return runStatement(c, this.sql, noBound, formats);
  }
}
