// Phase (c), the applying side: committed changes of the old primaries written to the new shards by the new
// map, keyed by primary key so that applying a change twice leaves the same row (upsert; delete by key).
import pg from 'pg';
import type { ShardMap } from '../router/sharding/shard-map.js';
import type { RowChange, RowValues, StreamTransaction } from '../streams/row-changes.js';
import { clientConfig, type ServerLogin } from '../streams/stream-lock.js';
import { markTable } from './copy.js';
import { quoteIdent, type ReshardPlan, type TableFacts } from './plan.js';
import { targetsOf } from './tables.js';
import type { TouchedKeys } from './touched.js';

interface Statement {
  readonly text: string;
  readonly values: (string | null)[];
}

export class ChangeApplier {
  private readonly pools: pg.Pool[];
  private readonly byName: Map<string, TableFacts>;
  /** Rows written to the new shards by the stream, for progress reports. */
  applied = 0;

  constructor(
    plan: ReshardPlan,
    private readonly map: ShardMap,
    tables: readonly TableFacts[],
    private readonly sourceShard: number,
    private readonly onMark: (sourceShard: number, n: bigint) => void,
    private readonly touched: TouchedKeys | null = null,
  ) {
    this.pools = plan.target.map(
      (server: ServerLogin) =>
        new pg.Pool({
          ...clientConfig(server),
          max: 1,
          application_name: 'polyproxy reshard',
          // As PostgreSQL's own logical replication applies: the new shards' triggers and foreign keys stay quiet
          // (the old primary already ran them; rows of one transaction may reach different shards in any order).
          options: '-c session_replication_role=replica',
        }),
    );
    for (const pool of this.pools) pool.on('error', () => {});
    // Reference and unsharded tables are read from one old shard only: the others' copies would apply twice.
    const mine = tables.filter((t) => t.role === 'sharded' || this.ownsCopy(plan, t));
    this.byName = new Map(mine.map((t) => [t.name, t]));
  }

  private ownsCopy(plan: ReshardPlan, table: TableFacts): boolean {
    const reader = table.role === 'reference' ? 0 : Math.min(plan.sourceDefaultShard, plan.source.length - 1);
    return reader === this.sourceShard;
  }

  /** Applies transactions in commit order; one transaction per new shard for the whole batch. */
  async apply(transactions: readonly StreamTransaction[]): Promise<void> {
    const perShard: Statement[][] = this.pools.map(() => []);
    let marked: bigint | null = null;
    for (const transaction of transactions) {
      for (const change of transaction.changes) {
        if (change.table.endsWith(`.${markTable}`)) {
          if (change.new?.n) marked = BigInt(change.new.n);
          continue;
        }
        const table = this.byName.get(change.table);
        if (!table) continue;
        for (const [shard, statement] of this.statements(table, change)) perShard[shard]!.push(statement);
      }
    }
    await Promise.all(perShard.map((statements, shard) => this.run(shard, statements)));
    this.applied += perShard.reduce((sum, s) => sum + s.length, 0);
    if (marked !== null) this.onMark(this.sourceShard, marked);
  }

  private async run(shard: number, statements: readonly Statement[]): Promise<void> {
    if (statements.length === 0) return;
    const client = await this.pools[shard]!.connect();
    try {
      await client.query('BEGIN');
      for (const s of statements) await client.query(s.text, s.values);
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      // The connection may be broken or in a failed transaction: it is not reused.
      client.release(true);
      throw error;
    }
  }

  private statements(table: TableFacts, change: RowChange): [number, Statement][] {
    const all = this.map.allShards();
    const keyColumn = table.columns[table.keyIndex];
    const shardsOf = (row: RowValues | null): number[] =>
      table.role === 'sharded' && (!row || !keyColumn || !(keyColumn in row))
        ? all
        : targetsOf(this.map, table, row?.[keyColumn!] ?? null);
    switch (change.op) {
      case 'truncate':
        this.touched?.addWhole(table);
        return all
          .filter((s) => table.role !== 'unsharded' || s === this.map.defaultShard)
          .map((s) => [s, { text: `TRUNCATE ${table.sql}`, values: [] }]);
      case 'delete':
        this.touched?.add(table, change.key!);
        return shardsOf(change.key).map((s) => [s, deleteOf(table, change.key!)]);
      default: {
        const row = change.new!;
        const to = shardsOf(row);
        const before = change.oldKey ?? change.key!;
        const moved = table.primaryKey.some((c) => before[c] !== undefined && before[c] !== row[c]);
        // The old copy goes where the row no longer lives, or everywhere when its old shard is unknown.
        const from = shardsOf(change.oldKey ?? (table.primaryKey.includes(keyColumn ?? '') ? row : null));
        const stale = from.filter((s) => moved || !to.includes(s));
        this.touched?.add(table, row);
        if (moved) this.touched?.add(table, before);
        return [
          ...stale.map((s): [number, Statement] => [s, deleteOf(table, before)]),
          ...to.map((s): [number, Statement] => [s, upsertOf(table, row)]),
        ];
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.end().catch(() => {})));
  }
}

function deleteOf(table: TableFacts, key: RowValues): Statement {
  const where = table.primaryKey.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(' AND ');
  return {
    text: `DELETE FROM ${table.sql} WHERE ${where}`,
    values: table.primaryKey.map((c) => key[c] ?? null),
  };
}

/** Columns an update left out (an unchanged TOASTed value) keep the new shard's value. */
function upsertOf(table: TableFacts, row: RowValues): Statement {
  const columns = table.columns.filter((c) => row[c] !== undefined);
  const params = columns.map((_, i) => `$${i + 1}`).join(', ');
  const others = columns.filter((c) => !table.primaryKey.includes(c));
  const conflict = table.primaryKey.map(quoteIdent).join(', ');
  const action =
    others.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${others.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}`;
  return {
    text: `INSERT INTO ${table.sql} (${columns.map(quoteIdent).join(', ')}) VALUES (${params}) ON CONFLICT (${conflict}) ${action}`,
    values: columns.map((c) => row[c] ?? null),
  };
}
