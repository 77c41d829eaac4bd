// Project: keeps the client's columns and drops the helper columns added for sorting and HAVING.
import type { ExecContext, Operator, ResultSet } from '../types.js';

export class Project implements Operator {
  readonly children: Operator[];

  constructor(
    child: Operator,
    /** Helper columns at the end of each row, dropped here. */
    readonly helpers: number,
  ) {
    this.children = [child];
  }

  describe(): string {
    return `Project drop-last=${this.helpers}`;
  }

  async run(ctx: ExecContext): Promise<ResultSet> {
    const input = await this.children[0].run(ctx);
    const width = input.columns.length - this.helpers;
    return { columns: input.columns.slice(0, width), rows: input.rows.map((r) => r.slice(0, width)) };
  }
}
