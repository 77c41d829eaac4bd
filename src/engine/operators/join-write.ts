// JoinWrite: UPDATE … FROM / DELETE … USING sharded tables not co-located with the target. The coordinator reads
// the joined tables' rows that may meet a target row, as one array per column (one statement, one snapshot); the
// write runs on the target's shards with `unnest` of those arrays in their places, in one transaction over them,
// so each target row is written once by PostgreSQL itself, its SET, WHERE and RETURNING evaluated there.
import type { ShardChannel } from '../../backend/shard-channel.js';
import { runStatement, textOf } from '../../backend/shard-exec.js';
import { noBound, type BoundParams } from '../../backend/shard-wire.js';
import { StatementError } from '../../backend/statement-error.js';
import { outcomeOf, shardList, summedTag } from '../outcome.js';
import {
  statementOf,
  type Column,
  type ExecContext,
  type Outcome,
  type Row,
  type StatementPlan,
} from '../types.js';
import { describeColumns, type CoordinatorRead } from './coordinator-read.js';
import { binaryType } from './insert-from-read.js';

/** The most rows one joined table may give: they travel as bound arrays to every shard the write runs on. */
export const maxJoinedRows = 1_000_000;

/** The coordinator's queries of a join write. */
export interface JoinedValues {
  /** The joined tables' rows side by side (described only: the columns' own types). */
  rowsSql: string;
  /** Per joined table: its row count, then one array per column. */
  valuesSql: string;
  /** The number of columns read of each joined table. */
  widths: number[];
}

/** What the coordinator gave: the arrays' type names, the bound arrays, and whether each table had rows. */
interface Fetched {
  types: string[][];
  bound: BoundParams;
  present: boolean[];
}

export class JoinWrite implements StatementPlan {
  readonly children: CoordinatorRead[];

  constructor(
    readonly read: CoordinatorRead,
    readonly table: string,
    readonly shards: number[],
    private readonly values: JoinedValues,
    /** The shards' statement for the joined columns' types and whether each joined table had rows. */
    private readonly sqlOf: (types: string[][], present: boolean[]) => string,
  ) {
    this.children = [read];
  }

  describe(): string {
    const types = this.values.widths.map((w) => Array.from({ length: w }, () => 'unknown'));
    const sql = this.sqlOf(
      types,
      types.map(() => true),
    );
    return `JoinWrite table=${this.table} shards=${shardList(this.shards)} commit=two-phase rows=joined-by-value sql=${JSON.stringify(sql)}`;
  }

  async execute(ctx: ExecContext): Promise<Outcome> {
    const st = statementOf(ctx);
    const fetched = await this.read.on((c) => this.fetch(c));
    const sql = this.sqlOf(fetched.types, fetched.present);
    return st.onShards(this.shards, { atomic: true, write: true }, async (chs) => {
      const answers = await st.onEach(chs, (c) => runStatement(c, sql, fetched.bound, st.formats));
      return { ...outcomeOf(answers), tag: summedTag(answers) };
    });
  }

  /** The joined rows as arrays: builtin types in binary (exact whatever the settings), others as text. */
  private async fetch(c: ShardChannel): Promise<Fetched> {
    const own = await describeColumns(c, this.values.rowsSql);
    const arrays = (await describeColumns(c, this.values.valuesSql)).filter((_, i) => !this.isCount(i));
    const names = await this.columnTypeNames(c, own);
    const formats = this.countsAnd(arrays.map((col) => (binaryType(col.typeOid) ? 1 : 0)));
    const row = (await runStatement(c, this.values.valuesSql, noBound, formats)).rows[0];
    return this.bind(row, formats, names);
  }

  /**
   * Each joined column's type as the shards' write casts its values (and the array to its array type): with the
   * column's own length (`numeric(12,2)`, `character(3)`; without one, never plain `character`, which means
   * character(1)), so values and RETURNING's columns are typed as the table's. An array column is refused.
   */
  private async columnTypeNames(c: ShardChannel, own: Column[]): Promise<string[]> {
    if (own.length === 0) return [];
    const list = (xs: number[]) => `'{${xs.join(',')}}'`;
    const facts = await runStatement(
      c,
      `SELECT format_type(e, m), (SELECT typcategory = 'A' FROM pg_type WHERE oid = e)
         FROM unnest(${list(own.map((x) => x.typeOid))}::oid[], ${list(own.map((x) => x.typmod))}::int4[])
           WITH ORDINALITY AS t(e, m, i) ORDER BY i`,
    );
    const nested = own.find((_, i) => textOf(facts.rows[i][1]) === 't');
    if (nested)
      throw StatementError.unsupported(
        `joined column "${nested.name}" is an array: its values cannot be passed on as rows of an array`,
        'join on a table without array columns named in the write, or write in two statements',
      );
    return facts.rows.map((r) => textOf(r[0])!);
  }

  /** Whether column `i` of the values query is a table's row count (each table: count, then its arrays). */
  private isCount(i: number): boolean {
    let at = 0;
    for (const w of this.values.widths) {
      if (i === at) return true;
      at += w + 1;
      if (i < at) return false;
    }
    return false;
  }

  /** The array formats with the counts' (text) in their places. */
  private countsAnd(arrayFormats: number[]): number[] {
    const out: number[] = [];
    let a = 0;
    for (const w of this.values.widths) out.push(0, ...arrayFormats.slice(a, (a += w)));
    return out;
  }

  private bind(row: Row, formats: number[], names: string[]): Fetched {
    const out: Fetched = { types: [], bound: { types: [], formats: [], values: [] }, present: [] };
    let at = 0;
    let a = 0;
    for (const w of this.values.widths) {
      const count = Number(textOf(row[at]) ?? 0);
      if (count > maxJoinedRows)
        throw StatementError.unsupported(
          `a joined table of this write to "${this.table}" gave ${count} rows; at most ${maxJoinedRows} are passed to the shards`,
          'narrow the join in WHERE, or write in several statements',
        );
      out.present.push(count > 0);
      out.types.push(names.slice(a, a + w));
      for (let i = 1; i <= w; i++) {
        const binary = formats[at + i] === 1;
        out.bound.types.push(0);
        out.bound.formats.push(binary ? 1 : 0);
        out.bound.values.push(row[at + i]);
      }
      a += w;
      at += w + 1;
    }
    return out;
  }
}
