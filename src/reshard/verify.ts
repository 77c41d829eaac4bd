// Phase (d): per table, the row count and an order-independent checksum (sum of hashtext of each row's text)
// on the old shards and on the new ones; equal, or which table differs and how.
import type { ServerLogin } from '../streams/stream-lock.js';
import { withClient } from './connect.js';
import { sourceShardsOf, type ReshardPlan, type TableFacts } from './plan.js';

export interface TableCheck {
  readonly table: string;
  readonly sourceRows: number;
  readonly targetRows: number;
  readonly equal: boolean;
  /** Why the sides differ, when they do. */
  readonly problem?: string;
}

export interface Sums {
  rows: bigint;
  checksum: bigint;
}

export const add = (a: Sums, b: Sums): Sums => ({
  rows: a.rows + b.rows,
  checksum: a.checksum + b.checksum,
});
export const zero: Sums = { rows: 0n, checksum: 0n };

/** Each table's sums on one server, read in one statement over one connection. */
async function sumsOn(server: ServerLogin, tables: readonly TableFacts[]): Promise<Map<string, Sums>> {
  if (tables.length === 0) return new Map();
  const sql = tables
    .map(
      (t, i) =>
        `SELECT ${i} AS i, count(*)::text AS n, coalesce(sum(hashtext(r::text)::bigint), 0)::text AS sum FROM ${t.sql} r`,
    )
    .join(' UNION ALL ');
  return withClient(server, async (client) => {
    const { rows } = await client.query<{ i: number; n: string; sum: string }>(sql);
    return new Map(
      rows.map((row) => [tables[row.i]!.name, { rows: BigInt(row.n), checksum: BigInt(row.sum) }]),
    );
  });
}

/** The new shards that should hold a table's rows, all of them together (reference tables: each one). */
export function targetGroups(plan: ReshardPlan, table: TableFacts): number[][] {
  const all = plan.target.map((_, i) => i);
  if (table.role === 'sharded') return [all];
  if (table.role === 'reference') return all.map((i) => [i]);
  return [[plan.targetSharding.default_shard]];
}

export async function verify(plan: ReshardPlan, tables: readonly TableFacts[]): Promise<TableCheck[]> {
  // Every server at once, one statement each: the cutover compares while the database's statements wait.
  const [source, target] = await Promise.all([
    Promise.all(
      plan.source.map((server, shard) =>
        sumsOn(
          server,
          tables.filter((t) => sourceShardsOf(plan, t).includes(shard)),
        ),
      ),
    ),
    Promise.all(
      plan.target.map((server, shard) =>
        sumsOn(
          server,
          tables.filter((t) => targetGroups(plan, t).some((group) => group.includes(shard))),
        ),
      ),
    ),
  ]);
  return tables.map((table) => checkOf(plan, table, source, target));
}

function checkOf(
  plan: ReshardPlan,
  table: TableFacts,
  source: readonly Map<string, Sums>[],
  target: readonly Map<string, Sums>[],
): TableCheck {
  const total = (maps: readonly Map<string, Sums>[], shards: number[]) =>
    shards.reduce((sum, shard) => add(sum, maps[shard]!.get(table.name) ?? zero), zero);
  const before = total(source, sourceShardsOf(plan, table));
  const groups = targetGroups(plan, table);
  const afters = groups.map((group) => total(target, group));
  const check: TableCheck = {
    table: table.name,
    sourceRows: Number(before.rows),
    targetRows: Number(afters[0]!.rows),
    equal: true,
  };
  for (const [i, after] of afters.entries()) {
    if (after.rows === before.rows && after.checksum === before.checksum) continue;
    const group = groups[i]!;
    const what = after.rows === before.rows ? 'checksums differ' : 'row counts differ';
    const where = group.length === 1 ? ` on new shard ${group[0]}` : '';
    return {
      ...check,
      targetRows: Number(after.rows),
      equal: false,
      problem: `${what}${where}: ${before.rows} rows / ${before.checksum} before, ${after.rows} / ${after.checksum} after`,
    };
  }
  return check;
}
