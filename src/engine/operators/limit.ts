// Limit: OFFSET then LIMIT over the merged rows (shards were asked for LIMIT count + offset).
import type { ExecContext, Operator, ResultSet } from '../types.js';

export class Limit implements Operator {
  readonly children: Operator[];

  constructor(
    child: Operator,
    readonly count: number | null,
    readonly offset: number,
  ) {
    this.children = [child];
  }

  describe(): string {
    return `Limit${this.count === null ? '' : ` count=${this.count}`}${this.offset ? ` offset=${this.offset}` : ''}`;
  }

  async run(ctx: ExecContext): Promise<ResultSet> {
    const input = await this.children[0].run(ctx);
    const end = this.count === null ? undefined : this.offset + this.count;
    return { columns: input.columns, rows: input.rows.slice(this.offset, end) };
  }
}
