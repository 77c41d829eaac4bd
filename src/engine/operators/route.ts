// Route: runs one SQL text on a set of shards and hands on their rows, per shard and concatenated.
import type { ExecContext, Operator, ResultSet } from '../types.js';

export class Route implements Operator {
  readonly children: Operator[] = [];

  constructor(
    readonly shards: number[],
    readonly sql: string,
    /** Why these shards, for EXPLAIN ROUTE. */
    readonly reason?: string,
  ) {}

  describe(): string {
    const why = this.reason ? ` reason=${this.reason}` : '';
    return `Route shards=[${this.shards.join(',')}]${why} sql=${JSON.stringify(this.sql)}`;
  }

  async run(ctx: ExecContext): Promise<ResultSet> {
    const results = await ctx.runOnShards(this.shards, this.sql);
    const parts = results.map((r) => r.rows);
    const columns = results.find((r) => r.columns)?.columns ?? [];
    return { columns, rows: parts.flat(), parts };
  }
}
