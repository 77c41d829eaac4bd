// Cast: applies the select list's casts of merged aggregates and group keys (`count(*)::int`), after merging.
import { computedColumn, type Column, type ExecContext, type Operator, type ResultSet } from '../types.js';
import { castText, type CastTarget } from '../values/cast-text.js';

export interface ColumnCast {
  /** The output column cast. */
  index: number;
  target: CastTarget;
  /** The target's name, for EXPLAIN ROUTE. */
  typeName: string;
}

export class Cast implements Operator {
  readonly children: Operator[];

  constructor(
    child: Operator,
    readonly casts: ColumnCast[],
  ) {
    this.children = [child];
  }

  describe(): string {
    return `Cast ${this.casts.map((c) => `$${c.index + 1}::${c.typeName}`).join(' ')}`;
  }

  async run(ctx: ExecContext): Promise<ResultSet> {
    const input = await this.children[0].run(ctx);
    const columns: Column[] = [...input.columns];
    const from = this.casts.map((c) => input.columns[c.index].typeOid);
    for (const c of this.casts) {
      const old = columns[c.index];
      columns[c.index] = { ...computedColumn(old.name, c.target.typeOid), typmod: c.target.typmod };
    }
    const rows = input.rows.map((row) => {
      const out = [...row];
      this.casts.forEach((c, i) => {
        const value = row[c.index];
        if (value !== null) out[c.index] = Buffer.from(castText(value.toString('utf8'), from[i], c.target));
      });
      return out;
    });
    return { columns, rows };
  }
}
