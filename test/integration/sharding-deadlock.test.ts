// Deadlocks across shards: each shard sees only a lock wait; the proxy finds the cycle and rolls one transaction back.
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import { keyOnShard, shardedDatabasesYaml, startShardedRig, type ShardedRig } from './sharding-helpers.js';

let rig: ShardedRig;
/** The test's clients through the proxy; ended after each test, which rolls back what they left open. */
const clients: pg.Client[] = [];

/** One key per shard. */
const key = [keyOnShard(0, 1), keyOnShard(1, 1), keyOnShard(2, 1)];

/** A client through the proxy; a statement that hangs is given up after 30 s rather than the test's timeout. */
async function proxyClient(p: TestProxy = rig.proxy): Promise<pg.Client> {
  const c = await connect({ ...p.client(), query_timeout: 30_000 });
  clients.push(c);
  return c;
}

type Outcome = { ok: true } | { ok: false; code: string; message: string; detail?: string };

/** Runs a statement, then ends the client's transaction: COMMIT after success, ROLLBACK after an error. */
async function attemptAndEnd(c: pg.Client, sql: string): Promise<Outcome> {
  const outcome = await attempt(c, sql);
  await c.query(outcome.ok ? 'COMMIT' : 'ROLLBACK');
  return outcome;
}

/** Runs a statement; its error, if any, as data. */
function attempt(c: pg.Client, sql: string, params: unknown[] = []): Promise<Outcome> {
  return c.query(sql, params).then(
    () => ({ ok: true }) as const,
    (e: Error & { code?: string; detail?: string }) => ({
      ok: false as const,
      code: e.code ?? '',
      message: e.message,
      detail: e.detail,
    }),
  );
}

async function valuesByKey(): Promise<Map<number, number>> {
  const rows = await Promise.all(
    rig.direct.map(async (d) => (await d.query('SELECT id, v FROM accounts')).rows),
  );
  return new Map(rows.flat().map((r) => [Number(r.id), Number(r.v)]));
}

/** polyproxy_cross_shard_deadlocks_total of database app, for deadlocks found one way. */
async function deadlocksCounted(found = 'cycle', p: TestProxy = rig.proxy): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${p.adminPort}/metrics`)).text();
  const series = `polyproxy_cross_shard_deadlocks_total{database="app",found="${found}"}`;
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Open transactions of the test's shards that still wait for a lock (none once the deadlock is broken). */
async function lockWaits(): Promise<number> {
  const counts = await Promise.all(
    rig.direct.map(async (d) =>
      Number(
        (await d.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).rows[0].count,
      ),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

beforeAll(async () => {
  rig = await startShardedRig({
    poolSize: 4,
    sharding: { tables: { accounts: 'id' }, deadlock_check_interval: '200ms' },
    direct: true,
  });
  await rig.sharded.query('CREATE TABLE accounts (id int8 PRIMARY KEY, v int NOT NULL)');
});

beforeEach(async () => {
  await rig.sharded.query('DELETE FROM accounts');
  await rig.sharded.query('INSERT INTO accounts (id, v) VALUES ($1, 0), ($2, 0), ($3, 0)', key);
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => {});
});

afterAll(() => rig?.stop());

describe('cross-shard deadlocks', () => {
  it('answers one of two clients 40P01 and lets the other commit', async () => {
    const before = await deadlocksCounted();
    const [a, b] = [await proxyClient(), await proxyClient()];
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('UPDATE accounts SET v = v + 1 WHERE id = $1', [key[0]]);
    await b.query('UPDATE accounts SET v = v + 10 WHERE id = $1', [key[1]]);
    // Each now waits for the other, on a different shard.
    const [ra, rb] = await Promise.all([
      attempt(a, 'UPDATE accounts SET v = v + 1 WHERE id = $1', [key[1]]),
      attempt(b, 'UPDATE accounts SET v = v + 10 WHERE id = $1', [key[0]]),
    ]);
    const outcomes = [ra, rb];
    const failed = outcomes.filter((o) => !o.ok);
    expect(failed).toHaveLength(1);
    const victim = failed[0] as Extract<Outcome, { ok: false }>;
    expect(victim.code).toBe('40P01');
    expect(victim.message).toBe('deadlock detected');
    expect(victim.detail).toMatch(/shards 0, 1/);
    const [winner, loser] = ra.ok ? [a, b] : [b, a];
    // The victim's block failed as in PostgreSQL: statements are refused until ROLLBACK.
    expect(await attempt(loser, 'SELECT 1')).toMatchObject({ ok: false, code: '25P02' });
    await loser.query('ROLLBACK');
    await winner.query('COMMIT');
    const values = await valuesByKey();
    const expected = ra.ok ? 1 : 10;
    expect([values.get(key[0]), values.get(key[1]), values.get(key[2])]).toEqual([expected, expected, 0]);
    expect(await deadlocksCounted()).toBe(before + 1);
    expect(await lockWaits()).toBe(0);
    // The victim's session works on: a new transaction over both shards commits.
    await loser.query('BEGIN');
    await loser.query('UPDATE accounts SET v = v + 100 WHERE id = $1', [key[0]]);
    await loser.query('UPDATE accounts SET v = v + 100 WHERE id = $1', [key[1]]);
    await loser.query('COMMIT');
    const after = await valuesByKey();
    expect([after.get(key[0]), after.get(key[1])]).toEqual([expected + 100, expected + 100]);
  });

  it('breaks a cycle of three clients over three shards, with simple queries', async () => {
    const cs = [await proxyClient(), await proxyClient(), await proxyClient()];
    for (const c of cs) await c.query('BEGIN');
    // Client i holds the row on shard i, then wants the row on shard i + 1.
    for (let i = 0; i < 3; i++)
      await cs[i].query(`UPDATE accounts SET v = v + ${10 ** i} WHERE id = ${key[i]}`);
    // Each ends its transaction as soon as its statement is answered: the others' waits end one by one.
    const outcomes = await Promise.all(
      cs.map((c, i) =>
        attemptAndEnd(c, `UPDATE accounts SET v = v + ${10 ** i} WHERE id = ${key[(i + 1) % 3]}`),
      ),
    );
    const failed = outcomes.flatMap((o, i) => (o.ok ? [] : [{ i, o }]));
    expect(failed).toHaveLength(1);
    expect(failed[0].o).toMatchObject({ code: '40P01', message: 'deadlock detected' });
    expect((failed[0].o as { detail: string }).detail).toMatch(/shards 0, 1, 2/);
    const victim = failed[0].i;
    const values = await valuesByKey();
    // Every committed client added its amount to its own row and to the next one.
    const expected = key.map((_, shard) =>
      [0, 1, 2]
        .filter((i) => i !== victim && (i === shard || (i + 1) % 3 === shard))
        .reduce((sum, i) => sum + 10 ** i, 0),
    );
    expect(key.map((k) => values.get(k))).toEqual(expected);
  });

  it('breaks a cycle through a statement over several shards', async () => {
    const [a, b] = [await proxyClient(), await proxyClient()];
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('UPDATE accounts SET v = v + 1 WHERE id = $1', [key[0]]);
    await b.query('UPDATE accounts SET v = v + 10 WHERE id = $1', [key[2]]);
    const [ra, rb] = await Promise.all([
      // Over shards 1 and 2 at once: the part on shard 2 waits for b.
      attempt(a, 'UPDATE accounts SET v = v + 1 WHERE id IN ($1, $2)', [key[1], key[2]]),
      attempt(b, 'UPDATE accounts SET v = v + 10 WHERE id = $1', [key[0]]),
    ]);
    expect([ra, rb].filter((o) => !o.ok)).toHaveLength(1);
    expect([ra, rb].find((o) => !o.ok)).toMatchObject({ code: '40P01' });
    const [winner, loser] = ra.ok ? [a, b] : [b, a];
    await loser.query('ROLLBACK');
    await winner.query('COMMIT');
    const values = await valuesByKey();
    expect(key.map((k) => values.get(k))).toEqual(ra.ok ? [1, 1, 1] : [10, 0, 10]);
  });

  it('leaves lock waits that end on their own alone', async () => {
    const before = await deadlocksCounted();
    const [a, b] = [await proxyClient(), await proxyClient()];
    await a.query('BEGIN');
    await a.query('UPDATE accounts SET v = v + 1 WHERE id = $1', [key[0]]);
    await a.query('UPDATE accounts SET v = v + 1 WHERE id = $1', [key[1]]);
    await b.query('BEGIN');
    await b.query('UPDATE accounts SET v = v + 10 WHERE id = $1', [key[2]]);
    const waiting = attempt(b, 'UPDATE accounts SET v = v + 10 WHERE id = $1', [key[0]]);
    // Several check intervals pass while b waits for a, which is not waiting for anyone.
    await new Promise((r) => setTimeout(r, 1000));
    await a.query('COMMIT');
    expect(await waiting).toEqual({ ok: true });
    await b.query('COMMIT');
    const values = await valuesByKey();
    expect(key.map((k) => values.get(k))).toEqual([11, 1, 10]);
    expect(await deadlocksCounted()).toBe(before);
  });

  it('rolls back a transaction that waits past lock_wait_limit: a deadlock through two proxy instances', async () => {
    // Each instance runs one of the two transactions, so neither sees the cycle; the limit breaks it.
    const yaml = shardedDatabasesYaml({
      cluster: rig.cluster,
      poolSize: 4,
      sharding: { tables: { accounts: 'id' }, deadlock_check_interval: '200ms', lock_wait_limit: '2s' },
    });
    const [p1, p2] = [
      await startTestProxy({ databasesYaml: yaml }),
      await startTestProxy({ databasesYaml: yaml }),
    ];
    try {
      const [a, b] = [await proxyClient(p1), await proxyClient(p2)];
      await a.query('BEGIN');
      await b.query('BEGIN');
      await a.query('UPDATE accounts SET v = v + 1 WHERE id = $1', [key[0]]);
      await b.query('UPDATE accounts SET v = v + 10 WHERE id = $1', [key[1]]);
      const ra = attempt(a, 'UPDATE accounts SET v = v + 1 WHERE id = $1', [key[1]]);
      // a has waited a while longer than b when the cycle closes: a reaches the limit first.
      await new Promise((r) => setTimeout(r, 1000));
      const rb = attempt(b, 'UPDATE accounts SET v = v + 10 WHERE id = $1', [key[0]]);
      expect(await ra).toMatchObject({ ok: false, code: '40P01', message: 'deadlock detected' });
      expect(((await ra) as { detail: string }).detail).toMatch(/lock_wait_limit/);
      await a.query('ROLLBACK');
      expect(await rb).toEqual({ ok: true });
      await b.query('COMMIT');
      const values = await valuesByKey();
      expect(key.map((k) => values.get(k))).toEqual([10, 10, 0]);
      expect(await deadlocksCounted('lock_wait_limit', p1)).toBe(1);
      expect(await deadlocksCounted('lock_wait_limit', p2)).toBe(0);
    } finally {
      for (const c of clients.splice(0)) await c.end().catch(() => {});
      await p1.close();
      await p2.close();
    }
  });
});
