// The reshard bench's ledger check, read from the new shards directly: every acknowledged row present once, with
// its last acknowledged value, on the shard the new map names; initial rows nobody wrote as they were; the count.
import pg from 'pg';
import { hashShard } from '../router/sharding/pg-hash.js';
import { initialValue, type ClientResult } from './reshard-clients.js';

export interface CheckResult {
  readonly rows: number;
  readonly expectedRows: number;
  readonly missing: number;
  readonly duplicated: number;
  readonly misplaced: number;
  readonly wrongValue: number;
  /** Rows present that nobody acknowledged and no failed write may have left. */
  readonly unexpected: number;
  readonly examples: string[];
}

/** Every row of items on each new shard: id -> [shard, v]; duplicates counted as they are found. */
async function readShards(shards: pg.ClientConfig[], found: Map<number, number>, problems: Problems) {
  for (const [shard, config] of shards.entries()) {
    const c = new pg.Client(config);
    await c.connect();
    try {
      const { rows } = await c.query<{ id: string; v: number }>('SELECT id, v FROM items');
      for (const r of rows) {
        const id = Number(r.id);
        if (found.has(id)) problems.note('duplicated', `id ${id} twice`);
        if (hashShard('int', BigInt(id), shards.length) !== shard)
          problems.note('misplaced', `id ${id} on new shard ${shard}`);
        found.set(id, r.v);
      }
    } finally {
      await c.end();
    }
  }
}

class Problems {
  readonly counts: Record<string, number> = {
    missing: 0,
    duplicated: 0,
    misplaced: 0,
    wrongValue: 0,
    unexpected: 0,
  };
  readonly examples: string[] = [];
  note(kind: string, example: string): void {
    this.counts[kind]!++;
    if (this.examples.length < 10) this.examples.push(example);
  }
}

export async function checkLedger(
  shards: pg.ClientConfig[],
  initialRows: number,
  results: readonly ClientResult[],
): Promise<CheckResult> {
  const problems = new Problems();
  const found = new Map<number, number>();
  await readShards(shards, found, problems);
  const expected = new Map<number, number>();
  const uncertain = new Set<number>();
  for (const r of results) {
    for (const [id, v] of r.expected) expected.set(id, v);
    for (const id of r.uncertain) uncertain.add(id);
  }
  let expectedRows = initialRows;
  for (const r of results) expectedRows += r.inserted;
  for (let id = 1; id <= initialRows; id++) if (!expected.has(id)) expected.set(id, initialValue(id));
  for (const [id, v] of expected) {
    if (uncertain.has(id)) continue;
    const got = found.get(id);
    if (got === undefined) problems.note('missing', `id ${id} missing (last written ${v})`);
    else if (got !== v) problems.note('wrongValue', `id ${id}: ${got} instead of ${v}`);
  }
  for (const id of found.keys())
    if (!expected.has(id) && !uncertain.has(id)) problems.note('unexpected', `id ${id} never acknowledged`);
  const { missing, duplicated, misplaced, wrongValue, unexpected } = problems.counts;
  return {
    rows: found.size,
    expectedRows,
    missing: missing!,
    duplicated: duplicated!,
    misplaced: misplaced!,
    wrongValue: wrongValue!,
    unexpected: unexpected!,
    examples: problems.examples,
  };
}
