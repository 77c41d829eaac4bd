// InsertFromRead: INSERT … SELECT into a sharded table. The coordinator runs the SELECT through a cursor; each
// batch of its rows is split by the target's shard key and inserted with bound values, all shards in one
// transaction (the client's block, or two-phase commit): at most one batch of rows is held at a time.
import type { ShardChannel } from '../../backend/shard-channel.js';
import { runSimple, runStatement, type ShardAnswer } from '../../backend/shard-exec.js';
import {
  bindMessage,
  decodeRowDescription,
  describeMessage,
  noBound,
  parseMessage,
  syncMessage,
  type BoundParams,
} from '../../backend/shard-wire.js';
import { Backend } from '../../protocol/codes.js';
import { StatementError } from '../../backend/statement-error.js';
import type { KeyValue } from '../../router/sharding/key-value.js';
import type { HashKeyType } from '../../router/sharding/pg-hash.js';
import type { TablePlacement } from '../../router/sharding/shard-map.js';
import { shardList } from '../outcome.js';
import {
  statementOf,
  type Column,
  type ExecContext,
  type Outcome,
  type Row,
  type StatementExec,
  type StatementPlan,
} from '../types.js';
import { describeColumns, type CoordinatorRead } from './coordinator-read.js';

/** PostgreSQL's limit on the parameters of one statement. */
const maxParams = 65535;
const cursor = 'polyproxy_insert_rows';

/**
 * Builtin types whose binary form the proxy passes on as is (exact, whatever the session's DateStyle or
 * extra_float_digits). Text goes as text, except a SELECT's own string literals, which go untyped so that
 * PostgreSQL reads them as the target column's type, as it does in INSERT … SELECT (and refuses a text
 * column into an integer one, 42804, as it does); types of the database's own (their OIDs differ between the
 * coordinator and the shards) and the few builtins without binary input go as untyped text.
 */
export function binaryType(oid: number): boolean {
  return oid < 16384 && ![25, 705, 1033, 1034, 194, 2249, 3361, 3402, 5017].includes(oid);
}

/** The parameter type a column's values are sent with: its own, text, or none (untyped). */
function sentType(oid: number, literal: boolean): number {
  if (binaryType(oid)) return oid;
  return oid === 25 && !literal ? 25 : 0;
}

/** The key's text as the proxy reads a key of its type: ISO forms for dates and timestamps. */
function keyText(type: HashKeyType, column: string): string {
  switch (type) {
    case 'int':
      return `(${column})::int8::text`;
    // Infinities and BC dates keep a form the proxy refuses to place rather than one it would misread.
    case 'date':
      return `CASE WHEN isfinite((${column})::date) AND (${column})::date >= '0001-01-01' THEN to_char((${column})::date, 'YYYY-MM-DD') ELSE (${column})::date::text END`;
    case 'timestamp':
      return `CASE WHEN isfinite((${column})::timestamp) AND (${column})::timestamp >= '0001-01-01' THEN to_char((${column})::timestamp, 'YYYY-MM-DD HH24:MI:SS.US') ELSE (${column})::timestamp::text END`;
    case 'text':
      return `(${column})::text`;
    default:
      return `(${column})::${type}::text`;
  }
}

/** The inserted rows so far: their count and what RETURNING gave. */
interface Inserted {
  count: number;
  columns: Column[] | null;
  rows: Row[];
}

export class InsertFromRead implements StatementPlan {
  readonly children: CoordinatorRead[];

  constructor(
    readonly read: CoordinatorRead,
    readonly table: string,
    readonly placement: TablePlacement,
    readonly keyType: HashKeyType,
    readonly keyIndex: number,
    readonly shards: number[],
    /** The INSERT for a number of rows, their values as $1… in row order. */
    private readonly insertSql: (rows: number, columns: number) => string,
    /** The SELECT's columns that are string literals (or NULL): sent untyped, as PostgreSQL types them. */
    private readonly literalColumns: ReadonlySet<number> = new Set(),
  ) {
    this.children = [read];
  }

  describe(): string {
    return (
      `InsertFromRead table=${this.table} key=${this.placement.column} shards=${shardList(this.shards)} ` +
      `commit=two-phase rows=by-shard-key sql=${JSON.stringify(this.insertSql(1, 0))}`
    );
  }

  execute(ctx: ExecContext): Promise<Outcome> {
    const st = statementOf(ctx);
    return this.read.on(async (c) => {
      const columns = await describeColumns(c, this.read.sql);
      if (columns.length <= this.keyIndex)
        throw StatementError.unsupported(
          `INSERT into sharded table "${this.table}" must give its shard key "${this.placement.column}"`,
        );
      const names = columns.map((_, i) => `c${i + 1}`).join(', ');
      const sql = `SELECT s.*, ${keyText(this.keyType, `s.c${this.keyIndex + 1}`)} FROM (${this.read.sql}) AS s(${names})`;
      // One snapshot for the whole read; the coordinator never writes, so the transaction is read only.
      await runSimple(c, 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      try {
        await runSimple(c, `DECLARE ${cursor} NO SCROLL CURSOR FOR ${sql}`);
        const done = await st.onShards(this.shards, { atomic: true, write: true }, (chs) =>
          this.insertAll(c, chs, columns, st),
        );
        return { columns: done.columns, rows: done.rows, tag: `INSERT 0 ${done.count}` };
      } finally {
        await runSimple(c, 'ROLLBACK').catch(() => {});
      }
    });
  }

  /** Fetches batch after batch from the cursor and inserts each on the shards its keys belong to. */
  private async insertAll(
    c: ShardChannel,
    chs: ShardChannel[],
    columns: Column[],
    st: StatementExec,
  ): Promise<Inserted> {
    const n = columns.length;
    const formats = [...columns.map((col) => (binaryType(col.typeOid) ? 1 : 0)), 0];
    const types = columns.map((col, i) => sentType(col.typeOid, this.literalColumns.has(i)));
    const batch = Math.max(1, Math.min(1000, Math.floor(maxParams / n)));
    const done: Inserted = { count: 0, columns: null, rows: [] };
    // The client's cancel goes to the coordinator, where the read is: a cancelled read fails the whole write.
    this.read.access.session.running(c.conn);
    const fetch = () => runStatement(c, `FETCH ${batch} FROM ${cursor}`, noBound, formats);
    // The next batch is read on the coordinator while this one is written on the shards.
    let next = fetch();
    const shape = { types, formats, n };
    for (;;) {
      const fetched = await next;
      const more = fetched.rows.length === batch;
      if (more) next = fetch();
      try {
        this.add(done, await this.insertBatch(this.split(fetched.rows, n), chs, shape, st));
      } catch (err) {
        if (more) await next.catch(() => undefined);
        throw err;
      }
      if (!more) {
        done.columns ??= await this.returningColumns(chs[0], shape, st);
        return done;
      }
    }
  }

  /**
   * RETURNING's columns when no row was inserted (PostgreSQL describes them all the same): the INSERT of one
   * row of NULLs bound and its portal described on one shard, never executed. Null without RETURNING.
   */
  private async returningColumns(
    ch: ShardChannel,
    shape: { types: number[]; formats: number[]; n: number },
    st: StatementExec,
  ): Promise<Column[] | null> {
    const { types, n } = shape;
    const bound: BoundParams = { types, formats: [], values: types.map(() => null) };
    const sql = this.insertSql(1, n);
    const round = await ch.round([
      parseMessage(sql, types),
      bindMessage(bound, st.formats),
      describeMessage('P'),
      syncMessage,
    ]);
    const error = round.messages.find((m) => m.type === Backend.ErrorResponse);
    if (error) throw new StatementError(error.body);
    const description = round.messages.find((m) => m.type === Backend.RowDescription);
    return description ? decodeRowDescription(description.body) : null;
  }

  /** One batch's rows on the shards their keys belong to, in parallel. */
  private insertBatch(
    byShard: Map<number, Row[]>,
    chs: ShardChannel[],
    shape: { types: number[]; formats: number[]; n: number },
    st: StatementExec,
  ): Promise<ShardAnswer[]> {
    const { types, formats, n } = shape;
    const targets = chs.filter((ch) => byShard.has(ch.shard));
    return st.onEach(targets, (ch) => {
      const rows = byShard.get(ch.shard)!;
      const bound: BoundParams = {
        types: rows.flatMap(() => types),
        formats: rows.flatMap(() => formats.slice(0, n)),
        values: rows.flat(),
      };
      return runStatement(ch, this.insertSql(rows.length, n), bound, st.formats);
    });
  }

  /** Rows (without their key text) by the shard of their key. */
  private split(rows: Row[], n: number): Map<number, Row[]> {
    const byShard = new Map<number, Row[]>();
    for (const row of rows) {
      const text = row[n]?.toString() ?? null;
      const key: KeyValue | null = text !== null && this.keyType === 'int' ? BigInt(text) : text;
      const shard = this.shardOf(key);
      if (shard === null)
        throw StatementError.unsupported(
          `no shard holds key ${String(key)} of "${this.table}"`,
          'extend sharding ranges or lists to cover it',
        );
      const list = byShard.get(shard) ?? [];
      list.push(row.slice(0, n));
      byShard.set(shard, list);
    }
    return byShard;
  }

  /** The shard of a key, or the refusal of one the proxy cannot read as PostgreSQL hashes it. */
  private shardOf(key: KeyValue | null): number | null {
    try {
      return this.placement.shardOf(key, this.keyType);
    } catch {
      throw StatementError.unsupported(
        `the shard key ${this.table}.${this.placement.column} of a row read for this INSERT cannot be placed: '${String(key)}'`,
      );
    }
  }

  private add(done: Inserted, answers: ShardAnswer[]): void {
    for (const a of answers) {
      done.count += Number(/(\d+)$/.exec(a.tag)?.[1] ?? 0);
      done.columns ??= a.columns;
      for (const row of a.rows) done.rows.push(row);
    }
  }
}
