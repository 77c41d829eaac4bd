// Phase (d) before the cutover's pause, while clients still write: both sides compared per table and key range
// (a bucket of primary-key hashes), pass after pass, each pass after a catch-up, until every range was once equal.
//
// Why that is sound. The stream's touched keys are recorded from before the first pass. A range found equal in
// some pass holds the same rows on both sides as read then (the old side at one moment, the new side at
// another). Any row of it that differs by the time the cutover holds statements was changed after those reads:
// on the old side by a commit the stream applies before the held catch-up ends, on the new side only by the
// stream itself; either way the stream applied it after the recording began, so its key is in the tail the
// held cutover re-compares row by row (verify-tail.ts). A range that differs the same way in two passes in a
// row (neither side moved though the stream caught up in between) is a real difference: the cutover is refused
// before any statement waits. Ranges still moving after the last pass leave their table to a whole compare in
// the pause, as before this check existed.
import type { ServerLogin } from '../streams/stream-lock.js';
import { withClient } from './connect.js';
import { quoteIdent, sourceShardsOf, type ReshardPlan, type TableFacts } from './plan.js';
import type { TouchedKeys } from './touched.js';
import { add, targetGroups, zero, type Sums, type TableCheck } from './verify.js';

/** Key ranges per table: enough that a pass under load finds most of them untouched. */
const bucketBits = 12;
const maxPasses = 8;

export interface LiveVerification {
  /** Per table: the first pass's row counts, equal once every range was. */
  readonly checks: TableCheck[];
  readonly passes: number;
  readonly ms: number;
  /** Rows read on the old side in the first pass. */
  readonly rows: number;
  /** Tables with ranges that never settled: compared whole while statements are held. */
  readonly unsettled: string[];
}

type Buckets = Map<number, Sums>;

/** The key-range expression: a primary key's text form hashed into one of 2^bucketBits ranges. */
const bucketOf = (t: TableFacts) =>
  `(hashtext(row(${t.primaryKey.map((c) => `r.${quoteIdent(c)}`).join(', ')})::text) & ${(1 << bucketBits) - 1})`;

/** Each table's sums per range on one server (only the ranges asked for, when a list is given). */
async function bucketsOn(
  server: ServerLogin,
  tables: readonly TableFacts[],
  only: ReadonlyMap<string, Set<number> | null>,
): Promise<Map<string, Buckets>> {
  if (tables.length === 0) return new Map();
  const sql = tables
    .map((t, i) => {
      const list = only.get(t.name);
      const where = list ? ` WHERE ${bucketOf(t)} = ANY('{${[...list].join(',')}}'::int[])` : '';
      return `SELECT ${i} AS i, ${bucketOf(t)} AS b, count(*)::text AS n, coalesce(sum(hashtext(r::text)::bigint), 0)::text AS sum FROM ${t.sql} r${where} GROUP BY 2`;
    })
    .join(' UNION ALL ');
  return withClient(server, async (client) => {
    const { rows } = await client.query<{ i: number; b: number; n: string; sum: string }>(sql);
    const out = new Map<string, Buckets>(tables.map((t) => [t.name, new Map()]));
    for (const row of rows)
      out.get(tables[row.i]!.name)!.set(row.b, { rows: BigInt(row.n), checksum: BigInt(row.sum) });
    return out;
  });
}

/** One pass: the sums of the pending ranges on every server at once. */
async function readPass(
  plan: ReshardPlan,
  tables: readonly TableFacts[],
  only: ReadonlyMap<string, Set<number> | null>,
): Promise<{ source: Map<string, Buckets>[]; target: Map<string, Buckets>[] }> {
  const [source, target] = await Promise.all([
    Promise.all(
      plan.source.map((server, shard) =>
        bucketsOn(
          server,
          tables.filter((t) => sourceShardsOf(plan, t).includes(shard)),
          only,
        ),
      ),
    ),
    Promise.all(
      plan.target.map((server, shard) =>
        bucketsOn(
          server,
          tables.filter((t) => targetGroups(plan, t).some((group) => group.includes(shard))),
          only,
        ),
      ),
    ),
  ]);
  return { source, target };
}

const sumOf = (maps: readonly Map<string, Buckets>[], shards: readonly number[], table: string, b: number) =>
  shards.reduce((sum, shard) => add(sum, maps[shard]!.get(table)?.get(b) ?? zero), zero);

const allBuckets = (maps: readonly Map<string, Buckets>[], shards: readonly number[], table: string) =>
  shards.flatMap((shard) => [...(maps[shard]!.get(table)?.keys() ?? [])]);

const show = (s: Sums) => `${s.rows} rows / ${s.checksum}`;

/**
 * Compares both sides while the stream runs; `touched` records the stream's keys from the start on (the tail).
 * A check is not equal when a range differs the same way twice in a row.
 */
export async function verifyLive(
  plan: ReshardPlan,
  tables: readonly TableFacts[],
  touched: TouchedKeys,
  catchUp: () => Promise<void>,
): Promise<LiveVerification> {
  const started = Date.now();
  touched.start();
  let pending = new Map<string, Set<number> | null>(tables.map((t) => [t.name, null]));
  let last = new Map<string, string>();
  const checks = new Map<string, TableCheck>();
  let passes = 0;
  while (pending.size > 0 && passes < maxPasses) {
    passes++;
    await catchUp();
    const active = tables.filter((t) => pending.has(t.name));
    const { source, target } = await readPass(plan, active, pending);
    const next = new Map<string, Set<number> | null>();
    const differences = new Map<string, string>();
    for (const table of active) {
      const from = sourceShardsOf(plan, table);
      const groups = targetGroups(plan, table);
      const ranges = new Set([
        ...allBuckets(source, from, table.name),
        ...groups.flatMap((g) => allBuckets(target, g, table.name)),
      ]);
      let problem: string | undefined;
      for (const b of ranges) {
        const before = sumOf(source, from, table.name, b);
        for (const [i, group] of groups.entries()) {
          const after = sumOf(target, group, table.name, b);
          if (after.rows === before.rows && after.checksum === before.checksum) continue;
          if (!next.has(table.name)) next.set(table.name, new Set());
          next.get(table.name)!.add(b);
          const id = `${table.name}/${i}/${b}`;
          const seen = `${show(before)} before, ${show(after)} after`;
          differences.set(id, seen);
          const where = group.length === 1 ? ` on new shard ${group[0]}` : '';
          if (last.get(id) === seen) problem = `key range ${b}${where} differs: ${seen}`;
        }
      }
      if (passes === 1) checks.set(table.name, firstCheck(table, source, target, from, groups[0]!));
      if (problem) checks.set(table.name, { ...checks.get(table.name)!, equal: false, problem });
    }
    if ([...checks.values()].some((c) => !c.equal)) break;
    [pending, last] = [next, differences];
  }
  const list = [...checks.values()];
  return {
    checks: list,
    passes,
    ms: Date.now() - started,
    rows: list.reduce((n, c) => n + c.sourceRows, 0),
    unsettled: [...pending.keys()],
  };
}

function firstCheck(
  table: TableFacts,
  source: readonly Map<string, Buckets>[],
  target: readonly Map<string, Buckets>[],
  from: readonly number[],
  group: readonly number[],
): TableCheck {
  const total = (maps: readonly Map<string, Buckets>[], shards: readonly number[]) =>
    shards.reduce(
      (n, shard) =>
        [...(maps[shard]!.get(table.name)?.values() ?? [])].reduce((m, s) => m + Number(s.rows), n),
      0,
    );
  return {
    table: table.name,
    sourceRows: total(source, from),
    targetRows: total(target, group),
    equal: true,
  };
}
