// MergeSort: k-way merge of rows that every shard already sorted by the same ORDER BY.
import { describeSortKey, rowComparer, type SortKey } from '../values/compare.js';
import type { ExecContext, Operator, ResultSet, Row } from '../types.js';

export class MergeSort implements Operator {
  readonly children: Operator[];

  constructor(
    child: Operator,
    readonly keys: SortKey[],
  ) {
    this.children = [child];
  }

  describe(): string {
    return `MergeSort keys=[${this.keys.map(describeSortKey).join(', ')}]`;
  }

  async run(ctx: ExecContext): Promise<ResultSet> {
    const input = await this.children[0].run(ctx);
    const parts = input.parts ?? [input.rows];
    const compare = rowComparer(
      this.keys,
      input.columns.map((c) => c.typeOid),
    );
    const heads = parts.map(() => 0);
    const rows: Row[] = [];
    for (;;) {
      let best = -1;
      for (let p = 0; p < parts.length; p++) {
        if (heads[p] >= parts[p].length) continue;
        // Ties go to the lower shard, so equal keys keep a stable, repeatable order.
        if (best < 0 || compare(parts[p][heads[p]], parts[best][heads[best]]) < 0) best = p;
      }
      if (best < 0) break;
      rows.push(parts[best][heads[best]++]);
    }
    return { columns: input.columns, rows };
  }
}
