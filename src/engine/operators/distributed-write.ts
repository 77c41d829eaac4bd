// DistributedWrite: the same write on several shards in one transaction (two-phase commit), counts summed or first.
import { runStatement } from '../../backend/shard-exec.js';
import { outcomeOf, shardList, summedTag } from '../outcome.js';
import { statementOf, type ExecContext, type Outcome, type PlanNode, type StatementPlan } from '../types.js';

export class DistributedWrite implements StatementPlan {
  readonly children: PlanNode[] = [];

  constructor(
    readonly shards: number[],
    /** `sum` adds the shards' row counts; `first` reports one shard's (a reference table holds every row everywhere). */
    readonly count: 'sum' | 'first',
    readonly reason: string,
    readonly sql: string,
  ) {}

  describe(): string {
    return `DistributedWrite shards=${shardList(this.shards)} commit=two-phase rows=${this.count} reason=${this.reason} sql=${JSON.stringify(this.sql)}`;
  }

  execute(ctx: ExecContext): Promise<Outcome> {
    const st = statementOf(ctx);
    return st.onShards(this.shards, { atomic: true, write: true }, async (chs) => {
      const answers = await st.onEach(chs, (c) => runStatement(c, this.sql, st.bound, st.formats));
      if (this.count === 'first') return outcomeOf(answers.slice(0, 1));
      return { ...outcomeOf(answers), tag: summedTag(answers) };
    });
  }
}
