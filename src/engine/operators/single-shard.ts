// SingleShard: the client's statement on one shard as sent (its Bind passed on), read or write.
import { runStatement } from '../../backend/shard-exec.js';
import { outcomeOf } from '../outcome.js';
import { statementOf, type ExecContext, type Outcome, type PlanNode, type StatementPlan } from '../types.js';

export class SingleShard implements StatementPlan {
  readonly children: PlanNode[] = [];

  constructor(
    readonly shard: number,
    /** A primary runs it (a write, or a read that must see this client's writes there). */
    readonly write: boolean,
    readonly reason: string,
    readonly sql: string,
    /** DEALLOCATE ALL: the statements the proxy prepared on that connection for its clients go too. */
    readonly dropsPrepared = false,
  ) {}

  describe(): string {
    const access = this.write ? 'write' : 'read';
    return `SingleShard shard=${this.shard} access=${access} reason=${this.reason} sql=${JSON.stringify(this.sql)}`;
  }

  execute(ctx: ExecContext): Promise<Outcome> {
    const st = statementOf(ctx);
    return st.onShards([this.shard], { atomic: false, write: this.write }, async ([c]) => {
      const outcome = outcomeOf([await runStatement(c, this.sql, st.bound, st.formats)]);
      if (this.dropsPrepared) c.conn.session.forgetPrepared();
      return outcome;
    });
  }
}
