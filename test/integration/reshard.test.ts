// Resharding against a real PostgreSQL: 1 -> 3 and 3 -> 2 shards (databases on the shared primary) while a
// bounded ledger of writes runs through the copy and the stream; then verification, every acknowledged write
// present exactly once where the new map puts it; and a cancel that leaves no slot behind.
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { Reshard } from '../../src/reshard/reshard.js';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import { Ledger, client, createDatabases, fill, initialItems, plan, schemaSql } from './reshard-helpers.js';

const opened: pg.Client[] = [];
afterAll(async () => {
  await Promise.all(opened.map((c) => c.end().catch(() => {})));
});

async function clients(names: string[]): Promise<pg.Client[]> {
  const list = await Promise.all(names.map(client));
  opened.push(...list);
  return list;
}

/** Old shards with the schema and the initial rows; new shards empty databases. */
async function setUp(old: string[], fresh: string[]): Promise<pg.Client[]> {
  await createDatabases([...old, ...fresh]);
  const oldClients = await clients(old);
  for (const c of oldClients) await c.query(schemaSql);
  await fill(oldClients);
  return oldClients;
}

/** Every item on the new shards: once each, on the shard the new map names, with the ledger's value. */
async function checkItems(fresh: string[], ledgers: Ledger[]): Promise<number> {
  const seen = new Map<number, number>();
  for (const [shard, c] of (await clients(fresh)).entries()) {
    const { rows } = await c.query<{ id: string; v: number }>('SELECT id, v FROM items');
    for (const row of rows) {
      const id = Number(row.id);
      expect(seen.has(id), `item ${id} twice`).toBe(false);
      expect(hashShard('int', BigInt(id), fresh.length), `item ${id} shard`).toBe(shard);
      seen.set(id, row.v);
    }
    const tags = await c.query<{ tag: string }>('SELECT tag FROM notes');
    for (const { tag } of tags.rows) expect(hashShard('text', tag, fresh.length), `tag ${tag}`).toBe(shard);
    const countries = await c.query('SELECT * FROM countries');
    expect(countries.rowCount).toBe(3);
  }
  const expected = new Map(ledgers.flatMap((l) => [...l.expected]));
  expect(seen.size).toBe(expected.size);
  for (const [id, v] of expected) expect(seen.get(id), `item ${id}`).toBe(v);
  return seen.size;
}

async function reshardUnderLoad(name: string, old: string[], fresh: string[]): Promise<void> {
  const oldClients = await setUp(old, fresh);
  const writers = await clients(old);
  const half = initialItems / 2;
  const ledgers = [
    new Ledger(oldClients, 1, half, 1_000_000),
    new Ledger(writers, half + 1, initialItems, 2_000_000),
  ];
  const events: string[] = [];
  const reshard = new Reshard(plan(name, old, fresh), silentLogger, (phase, message) =>
    events.push(`${phase}: ${message}`),
  );
  const deadline = Date.now() + 60_000;
  const duringCopy = ledgers.map((l, i) => l.run(400, deadline, i + 1));
  const started = Date.now();
  await reshard.start();
  const startMs = Date.now() - started;
  const beforeStream = ledgers.reduce((n, l) => n + l.acknowledged, 0);
  await Promise.all(duringCopy);
  await Promise.all(ledgers.map((l, i) => l.run(300, deadline, i + 11)));
  try {
    const lag = await reshard.lag();
    const checks = await reshard.verify();
    expect(checks.filter((c) => !c.equal)).toEqual([]);
    expect(checks.map((c) => c.table).sort()).toEqual([
      'public.countries',
      'public.items',
      'public.notes',
      'public.settings',
    ]);
    const items = await checkItems(fresh, ledgers);
    const [settings] = await clients([fresh[0]!]);
    expect((await settings!.query("SELECT val FROM settings WHERE k = 'tab'")).rows[0].val).toBe('a\tb');
    const seq = await settings!.query('SELECT last_value FROM item_ids');
    expect(Number(seq.rows[0].last_value)).toBeGreaterThanOrEqual(initialItems);
    console.log(
      `${name}: ${old.length} -> ${fresh.length}; phases up to the stream in ${startMs} ms; ` +
        `${beforeStream} writes acknowledged before the stream ran, ${ledgers.reduce((n, l) => n + l.acknowledged, 0)} in all; ` +
        `${lag.applied} rows applied by the stream, lag ${lag.lagBytes.join('/')} bytes; ${items} items checked\n  ` +
        events.join('\n  '),
    );
  } finally {
    await reshard.cancel();
  }
}

describe('reshard', () => {
  it('moves one database to three shards under writes', async () => {
    await reshardUnderLoad('rs13', ['rs13_old'], ['rs13_n0', 'rs13_n1', 'rs13_n2']);
  }, 180_000);

  it('moves three shards to two under writes', async () => {
    await reshardUnderLoad('rs32', ['rs32_o0', 'rs32_o1', 'rs32_o2'], ['rs32_n0', 'rs32_n1']);
  }, 180_000);

  it('resumes from the recorded phase: a stopped stream picks up what was written meanwhile', async () => {
    const [old] = await setUp(['rsr_old'], ['rsr_n0', 'rsr_n1']);
    const first = new Reshard(plan('rsr', ['rsr_old'], ['rsr_n0', 'rsr_n1']), silentLogger);
    await first.start();
    await first.stop();
    await old!.query('UPDATE items SET v = 4242 WHERE id = 7');
    await old!.query('DELETE FROM items WHERE id = 8');
    await old!.query('INSERT INTO items (v) VALUES (77)');
    const events: string[] = [];
    const second = new Reshard(plan('rsr', ['rsr_old'], ['rsr_n0', 'rsr_n1']), silentLogger, (phase) =>
      events.push(phase),
    );
    await second.start();
    try {
      // Neither schema nor copy ran again: the state said the stream was next.
      expect(events).toEqual(['stream']);
      const checks = await second.verify();
      expect(checks.filter((c) => !c.equal)).toEqual([]);
      const fresh = await clients(['rsr_n0', 'rsr_n1']);
      const rows = async (sql: string) =>
        (await Promise.all(fresh.map((c) => c.query(sql)))).flatMap((r) => r.rows);
      expect(await rows('SELECT v FROM items WHERE id = 7')).toEqual([{ v: 4242 }]);
      expect(await rows('SELECT v FROM items WHERE id = 8')).toEqual([]);
      expect(await rows(`SELECT id FROM items WHERE id = ${initialItems + 1}`)).toHaveLength(1);
    } finally {
      await second.cancel();
    }
  }, 120_000);

  it('cancel leaves the old shards as they were and no slot behind', async () => {
    const [oldClient] = await setUp(['rsc_old'], ['rsc_n0', 'rsc_n1']);
    const reshard = new Reshard(plan('rsc', ['rsc_old'], ['rsc_n0', 'rsc_n1']), silentLogger);
    await reshard.start();
    await oldClient!.query('UPDATE items SET v = 99 WHERE id = 1');
    await reshard.cancel();
    const slots = await oldClient!.query('SELECT slot_name FROM pg_replication_slots');
    expect(slots.rows).toEqual([]);
    expect((await oldClient!.query('SELECT pubname FROM pg_publication')).rows).toEqual([]);
    expect(
      (await oldClient!.query("SELECT to_regclass('polyproxy_reshard_mark') AS t")).rows[0].t,
    ).toBeNull();
    const state = await oldClient!.query("SELECT phase FROM polyproxy_reshard WHERE database = 'rsc'");
    expect(state.rows[0].phase).toBe('cancelled');
    const count = await oldClient!.query('SELECT count(*)::int AS n FROM items');
    expect(count.rows[0].n).toBe(initialItems);
    expect((await oldClient!.query('SELECT v FROM items WHERE id = 1')).rows[0].v).toBe(99);
  }, 120_000);
});
