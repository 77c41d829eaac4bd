// Gather: the root of a scatter-gather SELECT: runs the row plan on the shards' connections, answers its rows.
import { runStatement } from '../../backend/shard-exec.js';
import { StatementError } from '../../backend/statement-error.js';
import { ValueError } from '../values/value-error.js';
import { shardList } from '../outcome.js';
import {
  statementOf,
  type Column,
  type ExecContext,
  type Operator,
  type Outcome,
  type ShardResult,
  type StatementPlan,
} from '../types.js';

export class Gather implements StatementPlan {
  readonly children: Operator[];

  constructor(
    child: Operator,
    readonly shards: number[],
    readonly reason: string,
    /** A locking or writing SELECT: primaries only. */
    readonly write: boolean,
  ) {
    this.children = [child];
  }

  describe(): string {
    return `Gather shards=${shardList(this.shards)} reason=${this.reason}${this.write ? ' access=write' : ''}`;
  }

  async execute(ctx: ExecContext): Promise<Outcome> {
    const st = statementOf(ctx);
    if (st.formats.some((f) => f !== 0)) {
      throw StatementError.unsupported(
        'binary result format for a query over several shards is not supported',
        'request text results',
      );
    }
    const use = { atomic: false, write: this.write };
    /** The columns the shards described, once they answered: the statement ran from then on. */
    let shardColumns: Column[] | null = null;
    const inner: ExecContext = {
      ...ctx,
      runOnShards: async (list, text) => {
        const results = await st.onShards(list, use, (chs) =>
          st.onEach(chs, (c): Promise<ShardResult> => runStatement(c, text)),
        );
        shardColumns ??= results.find((r) => r.columns)?.columns ?? null;
        return results;
      },
    };
    try {
      const result = await this.children[0].run(inner);
      return { columns: result.columns, rows: result.rows, tag: `SELECT ${result.rows.length}` };
    } catch (err) {
      if (err instanceof ValueError) throw await this.mergeFailed(err, shardColumns);
      // A shard failed while running, after its RowDescription: PostgreSQL's client had the row description.
      if (err instanceof StatementError && err.shardColumns)
        err.columns = await this.columnsFrom(err.shardColumns);
      throw err;
    }
  }

  /**
   * The error of the proxy's own operators over the shards' rows (a merged value cast out of range): after
   * the shards answered, the statement was running, so it follows the RowDescription as in PostgreSQL.
   */
  private async mergeFailed(err: ValueError, shardColumns: Column[] | null): Promise<StatementError> {
    const error = StatementError.relay(err.sqlstate, err.message);
    if (shardColumns) error.columns = await this.columnsFrom(shardColumns);
    return error;
  }

  /**
   * The columns this plan answers when its shards describe `columns` and send no row: its operators run on
   * empty input. Only for a plan of one shard statement (the one that failed); null for any other.
   */
  private async columnsFrom(columns: Column[]): Promise<Column[] | null> {
    let statements = 0;
    // No statement context: row operators need none, and nothing may reach a shard here.
    const described: ExecContext = {
      runOnShards: async (list) => {
        statements++;
        return list.map((shard) => ({ shard, columns, rows: [], tag: '' }));
      },
    };
    try {
      const result = await this.children[0].run(described);
      return statements === 1 ? result.columns : null;
    } catch {
      return null;
    }
  }
}
