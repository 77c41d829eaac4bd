// SplitInsert: an INSERT whose rows belong to different shards, one INSERT per shard in one transaction.
import { outcomeOf, shardList, summedTag } from '../outcome.js';
import { statementOf, type ExecContext, type Outcome, type StatementPlan } from '../types.js';
import type { ShardStatement } from './shard-statement.js';

export class SplitInsert implements StatementPlan {
  constructor(
    readonly children: ShardStatement[],
    readonly reason: string,
  ) {}

  describe(): string {
    const shards = this.children.map((p) => p.shard);
    return `SplitInsert shards=${shardList(shards)} commit=two-phase rows=sum reason=${this.reason}`;
  }

  execute(ctx: ExecContext): Promise<Outcome> {
    const st = statementOf(ctx);
    const shards = this.children.map((p) => p.shard);
    return st.onShards(shards, { atomic: true, write: true }, async (chs) => {
      const answers = await st.onEach(chs, (c, i) => this.children[i].runOn(c, st.formats));
      return { ...outcomeOf(answers), tag: summedTag(answers) };
    });
  }
}
