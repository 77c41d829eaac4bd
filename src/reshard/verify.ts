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

interface Sums {
  rows: bigint;
  checksum: bigint;
}

const add = (a: Sums, b: Sums): Sums => ({ rows: a.rows + b.rows, checksum: a.checksum + b.checksum });
const zero: Sums = { rows: 0n, checksum: 0n };

async function sums(server: ServerLogin, table: TableFacts): Promise<Sums> {
  return withClient(server, async (client) => {
    const { rows } = await client.query<{ n: string; sum: string }>(
      `SELECT count(*)::text AS n, coalesce(sum(hashtext(r::text)::bigint), 0)::text AS sum FROM ${table.sql} r`,
    );
    return { rows: BigInt(rows[0]!.n), checksum: BigInt(rows[0]!.sum) };
  });
}

/** The new shards that should hold a table's rows, all of them together (reference tables: each one). */
function targetGroups(plan: ReshardPlan, table: TableFacts): number[][] {
  const all = plan.target.map((_, i) => i);
  if (table.role === 'sharded') return [all];
  if (table.role === 'reference') return all.map((i) => [i]);
  return [[plan.targetSharding.default_shard]];
}

export async function verify(plan: ReshardPlan, tables: readonly TableFacts[]): Promise<TableCheck[]> {
  const checks: TableCheck[] = [];
  for (const table of tables) {
    let source = zero;
    for (const shard of sourceShardsOf(plan, table))
      source = add(source, await sums(plan.source[shard]!, table));
    let check: TableCheck | null = null;
    for (const group of targetGroups(plan, table)) {
      let target = zero;
      for (const shard of group) target = add(target, await sums(plan.target[shard]!, table));
      const equal = target.rows === source.rows && target.checksum === source.checksum;
      const where = group.length === 1 ? ` on new shard ${group[0]}` : '';
      check ??= {
        table: table.name,
        sourceRows: Number(source.rows),
        targetRows: Number(target.rows),
        equal,
      };
      if (!equal) {
        const what = target.rows === source.rows ? 'checksums differ' : 'row counts differ';
        check = {
          table: table.name,
          sourceRows: Number(source.rows),
          targetRows: Number(target.rows),
          equal: false,
          problem: `${what}${where}: ${source.rows} rows / ${source.checksum} before, ${target.rows} / ${target.checksum} after`,
        };
        break;
      }
    }
    checks.push(check!);
  }
  return checks;
}
