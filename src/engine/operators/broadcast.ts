// Broadcast: DDL and other utility statements on every shard; in a block within its transaction, else per shard.
import { runStatement, type ShardAnswer } from '../../backend/shard-exec.js';
import { StatementError } from '../../backend/statement-error.js';
import { errorCodes } from '../../errors.js';
import { outcomeOf, shardList } from '../outcome.js';
import {
  statementOf,
  type ExecContext,
  type Outcome,
  type PlanNode,
  type StatementExec,
  type StatementPlan,
} from '../types.js';

export class Broadcast implements StatementPlan {
  readonly children: PlanNode[] = [];

  constructor(
    readonly shards: number[],
    readonly reason: string,
    readonly sql: string,
  ) {}

  describe(): string {
    return `Broadcast shards=${shardList(this.shards)} reason=${this.reason} sql=${JSON.stringify(this.sql)}`;
  }

  async execute(ctx: ExecContext): Promise<Outcome> {
    const st = statementOf(ctx);
    st.catalogChanged();
    if (st.inBlock) {
      // One shard after another inside the block: a failure stops the rest, and the block fails.
      return st.onShards(this.shards, { atomic: true, write: true }, async (chs) => {
        const answers: ShardAnswer[] = [];
        for (const c of chs) answers.push(await runStatement(c, this.sql, st.bound));
        return outcomeOf(answers.slice(0, 1));
      });
    }
    return this.autocommit(st);
  }

  /** In autocommit each shard commits on its own, and failures are reported per shard. */
  private async autocommit(st: StatementExec): Promise<Outcome> {
    const shards = this.shards;
    const results = await Promise.allSettled(
      shards.map((s) =>
        st.onShards([s], { atomic: false, write: true }, ([c]) => runStatement(c, this.sql, st.bound)),
      ),
    );
    st.catalogChanged();
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ shard: shards[i], err: r.reason as Error }] : [],
    );
    if (failed.length === 0) return outcomeOf([(results[0] as PromiseFulfilledResult<ShardAnswer>).value]);
    const ok = shards.filter((s) => !failed.some((f) => f.shard === s));
    const first = failed[0].err;
    const sqlstate = first instanceof StatementError ? first.sqlstate : errorCodes.connectionFailure.sqlstate;
    const detail = failed.map((f) => `shard ${f.shard}: ${f.err.message}`).join('; ');
    const plural = (n: number) => (n > 1 ? 's' : '');
    throw StatementError.relay(
      sqlstate,
      `statement failed on shard${plural(failed.length)} ${failed.map((f) => f.shard).join(', ')}: ${first.message}`,
      ok.length
        ? `it succeeded on shard${plural(ok.length)} ${ok.join(', ')}; fix and re-run it there with IF NOT EXISTS / IF EXISTS`
        : undefined,
      detail,
    );
  }
}
