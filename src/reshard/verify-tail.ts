// Phase (d)'s tail, while the cutover holds statements and the stream has caught up: the rows whose keys the
// stream applied since the live verification began are re-compared one by one (looked up by primary key on
// both sides), so the held time grows with the writes of the last seconds, not with the tables' size. Tables
// the keys cannot describe (truncated, too many keys, ranges that never settled) are compared whole.
import type { RowValues } from '../streams/row-changes.js';
import type { ServerLogin } from '../streams/stream-lock.js';
import type { Runner } from './connect.js';
import { quoteIdent, sourceShardsOf, type ReshardPlan, type TableFacts } from './plan.js';
import type { TouchedKeys } from './touched.js';
import { targetGroups, verify, type TableCheck } from './verify.js';

export interface TailVerification {
  readonly checks: TableCheck[];
  /** Keys re-compared, over every table. */
  readonly keys: number;
  /** Tables compared whole. */
  readonly whole: string[];
  readonly ms: number;
}

/** Keys per lookup statement. */
const chunk = 5000;

/** Each key's row hash on one server, keyed by the key's text form (rows of other keys are absent). */
async function lookUp(
  run: Runner,
  server: ServerLogin,
  table: TableFacts,
  keys: readonly RowValues[],
): Promise<Map<string, string>> {
  const columns = table.primaryKey.map(quoteIdent);
  const key = `row(${columns.map((c) => `r.${c}`).join(', ')})::text`;
  // The keys arrive in text form: the table's own row type parses them, so each compares in its column's type.
  const sql = `SELECT ${key} AS k, hashtext(r::text)::text AS h FROM ${table.sql} r
    WHERE (${columns.map((c) => `r.${c}`).join(', ')}) IN
      (SELECT ${columns.map((c) => `k.${c}`).join(', ')} FROM json_populate_recordset(NULL::${table.sql}, $1::json) k)`;
  return run(server, async (client) => {
    const found = new Map<string, string>();
    for (let at = 0; at < keys.length; at += chunk) {
      const { rows } = await client.query<{ k: string; h: string }>(sql, [
        JSON.stringify(keys.slice(at, at + chunk)),
      ]);
      for (const row of rows) {
        // The same key twice on one side (two shards of a group) is a difference the hash map would hide.
        found.set(row.k, found.has(row.k) ? `${found.get(row.k)} and ${row.h}` : row.h);
      }
    }
    return found;
  });
}

async function lookUpOn(
  run: Runner,
  servers: readonly ServerLogin[],
  shards: readonly number[],
  table: TableFacts,
  keys: readonly RowValues[],
): Promise<Map<string, string>> {
  const maps = await Promise.all(shards.map((shard) => lookUp(run, servers[shard]!, table, keys)));
  const all = new Map<string, string>();
  for (const map of maps) for (const [k, h] of map) all.set(k, all.has(k) ? `${all.get(k)} and ${h}` : h);
  return all;
}

async function checkKeys(
  run: Runner,
  plan: ReshardPlan,
  table: TableFacts,
  keys: readonly RowValues[],
): Promise<TableCheck> {
  const groups = targetGroups(plan, table);
  const [before, ...afters] = await Promise.all([
    lookUpOn(run, plan.source, sourceShardsOf(plan, table), table, keys),
    ...groups.map((group) => lookUpOn(run, plan.target, group, table, keys)),
  ]);
  const check = { table: table.name, sourceRows: before!.size, targetRows: afters[0]!.size, equal: true };
  for (const [i, after] of afters.entries()) {
    for (const k of new Set([...before!.keys(), ...after.keys()])) {
      if (before!.get(k) === after.get(k)) continue;
      const where = groups[i]!.length === 1 ? ` on new shard ${groups[i]![0]}` : '';
      const state = (h: string | undefined) => (h === undefined ? 'absent' : `hash ${h}`);
      const problem = `row ${k}${where} differs after the live verification: ${state(before!.get(k))} before, ${state(after.get(k))} after`;
      return { ...check, targetRows: after.size, equal: false, problem };
    }
  }
  return check;
}

/** Re-compares what the stream touched since verifyLive began, and the tables `unsettled` names whole. */
export async function verifyTail(
  plan: ReshardPlan,
  tables: readonly TableFacts[],
  touched: TouchedKeys,
  unsettled: readonly string[],
  run: Runner,
): Promise<TailVerification> {
  const started = Date.now();
  const { keys, whole } = touched.snapshot();
  for (const name of unsettled) whole.add(name);
  const byKeys = tables.filter((t) => !whole.has(t.name) && (keys.get(t.name)?.length ?? 0) > 0);
  const [keyChecks, wholeChecks] = await Promise.all([
    Promise.all(byKeys.map((t) => checkKeys(run, plan, t, keys.get(t.name)!))),
    verify(
      plan,
      tables.filter((t) => whole.has(t.name)),
    ),
  ]);
  return {
    checks: [...keyChecks, ...wholeChecks],
    keys: byKeys.reduce((n, t) => n + keys.get(t.name)!.length, 0),
    whole: [...whole],
    ms: Date.now() - started,
  };
}
