// Distinct: drops rows whose visible columns repeat an earlier row (each shard was distinct on its own).
import type { ExecContext, Operator, ResultSet, Row } from '../types.js';

export class Distinct implements Operator {
  readonly children: Operator[];

  constructor(
    child: Operator,
    /** Helper sort columns at the end of each row, not part of what makes a row distinct. */
    readonly helpers: number,
  ) {
    this.children = [child];
  }

  describe(): string {
    return `Distinct${this.helpers ? ` ignore-last=${this.helpers}` : ''}`;
  }

  async run(ctx: ExecContext): Promise<ResultSet> {
    const input = await this.children[0].run(ctx);
    const width = input.columns.length - this.helpers;
    const seen = new Set<string>();
    const rows: Row[] = [];
    for (const row of input.rows) {
      const key = rowKey(row, width);
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push(row);
    }
    return { columns: input.columns, rows };
  }
}

/** A string that is equal for rows with equal values (and NULLs) in their first `width` columns. */
export function rowKey(row: Row, width: number): string {
  let key = '';
  for (let i = 0; i < width; i++) {
    const v = row[i];
    key += v === null ? '\u0001' : `\u0002${v.length}:${v.toString('latin1')}`;
  }
  return key;
}
