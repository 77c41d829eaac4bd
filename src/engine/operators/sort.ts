// Sort: orders rows the proxy computed itself (merged groups), where no shard could sort them.
import { describeSortKey, rowComparer, type SortKey } from '../values/compare.js';
import type { ExecContext, Operator, ResultSet } from '../types.js';

export class Sort implements Operator {
  readonly children: Operator[];

  constructor(
    child: Operator,
    readonly keys: SortKey[],
  ) {
    this.children = [child];
  }

  describe(): string {
    return `Sort keys=[${this.keys.map(describeSortKey).join(', ')}]`;
  }

  async run(ctx: ExecContext): Promise<ResultSet> {
    const input = await this.children[0].run(ctx);
    const compare = rowComparer(
      this.keys,
      input.columns.map((c) => c.typeOid),
    );
    return { columns: input.columns, rows: [...input.rows].sort(compare) };
  }
}
