// Differential suite: the same generated data in three shards behind the proxy and in one plain PostgreSQL;
// a few hundred generated queries must give identical results (column names, type OIDs, values, NULLs).
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directConfig } from './helpers/proxy.js';
import Cursor from 'pg-cursor';
import { RawConnection, type BackendMessage } from './helpers/raw-client.js';
import { Frontend } from '../../src/protocol/codes.js';
import { sync } from '../../src/protocol/frontend-messages.js';
import { MessageWriter } from '../../src/protocol/writer.js';
import { rawTypes, startShardedRig, type ShardedRig } from './sharding-helpers.js';

/** A small seeded generator, so a failure repeats. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const rnd = random(20241125);
const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
const maybe = (p: number, v: string) => (rnd() < p ? 'NULL' : v);

const schema = `CREATE TABLE people (
  id int8 PRIMARY KEY, grp text, n int4, big int8, amt numeric(12,3), f float8, name text,
  d date, ts timestamp, tz timestamptz, flag bool, u uuid)`;

function rows(count: number): string[] {
  const out: string[] = [];
  for (let id = 1; id <= count; id++) {
    const hex = Array.from({ length: 32 }, () => Math.floor(rnd() * 16).toString(16)).join('');
    const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const day = 1 + Math.floor(rnd() * 28);
    out.push(
      `(${id}, ${maybe(0.05, `'${pick(['a', 'b', 'c', 'd', 'B', 'é'])}'`)}, ${maybe(0.1, String(Math.floor(rnd() * 200) - 50))}, ` +
        `${maybe(0.1, String(BigInt(Math.floor(rnd() * 1e9)) * 1000003n))}, ${maybe(0.1, (rnd() * 2000 - 500).toFixed(3))}, ` +
        `${maybe(0.1, (rnd() * 100).toFixed(2))}, ${maybe(0.05, `'${pick(['ann', 'Bob', 'cid', 'dee', 'Eve', 'zoë'])}${id % 17}'`)}, ` +
        `${maybe(0.1, `'2024-0${1 + Math.floor(rnd() * 9)}-${String(day).padStart(2, '0')}'`)}, ` +
        `${maybe(0.1, `'2024-03-${String(day).padStart(2, '0')} ${String(Math.floor(rnd() * 24)).padStart(2, '0')}:${String(Math.floor(rnd() * 60)).padStart(2, '0')}:00.${Math.floor(rnd() * 1e6)}'`)}, ` +
        `${maybe(0.1, `'2024-10-${String(day).padStart(2, '0')} 12:00:00+0${Math.floor(rnd() * 9)}'`)}, ` +
        `${maybe(0.1, rnd() < 0.5 ? 'true' : 'false')}, ${maybe(0.1, `'${uuid}'`)})`,
    );
  }
  return out;
}

const predicates = [
  'n > 10',
  'n <= 0',
  "grp = 'a'",
  "grp IN ('b', 'c')",
  "name LIKE 'a%'",
  'amt BETWEEN 0 AND 500',
  'flag',
  'NOT flag',
  'n IS NULL',
  'amt IS NOT NULL',
  "d < '2024-05-01'",
  'id IN (1, 5, 9, 42, 77, 120)',
  'id = 17',
  'id = ANY(ARRAY[3, 33, 133])',
  'big > 500000000000000',
  "ts >= '2024-03-15'",
];
const orderable = ['n', 'big', 'amt', 'f', 'name', 'd', 'ts', 'tz', 'flag', 'u', 'grp'];
const numeric = ['n', 'big', 'amt'];

/** Queries and whether their row order is defined (else rows are compared as a sorted list). */
function queries(): { sql: string; ordered: boolean }[] {
  const q: { sql: string; ordered: boolean }[] = [];
  for (const p of predicates)
    q.push({ sql: `SELECT id, name, n, amt FROM people WHERE ${p} ORDER BY id`, ordered: true });
  for (const c of orderable) {
    for (const dir of ['', ' ASC', ' DESC']) {
      for (const nulls of ['', ' NULLS FIRST', ' NULLS LAST']) {
        q.push({ sql: `SELECT id, ${c} FROM people ORDER BY ${c}${dir}${nulls}, id`, ordered: true });
      }
    }
    q.push({ sql: `SELECT name FROM people ORDER BY ${c} DESC, id LIMIT 7 OFFSET 3`, ordered: true });
  }
  for (let i = 0; i < 30; i++) {
    const c = pick(orderable);
    const limit = 1 + Math.floor(rnd() * 20);
    const offset = Math.floor(rnd() * 30);
    const where = rnd() < 0.5 ? ` WHERE ${pick(predicates)}` : '';
    q.push({
      sql: `SELECT id, ${c}, grp FROM people${where} ORDER BY ${c}${pick(['', ' DESC'])}, id${pick([' DESC', ''])} LIMIT ${limit} OFFSET ${offset}`,
      ordered: true,
    });
  }
  for (const c of numeric) {
    for (const p of ['', ...predicates.slice(0, 8)]) {
      const where = p ? ` WHERE ${p}` : '';
      q.push({
        sql: `SELECT count(*), count(${c}), sum(${c}), avg(${c}), min(${c}), max(${c}) FROM people${where}`,
        ordered: true,
      });
    }
  }
  for (const c of ['name', 'd', 'ts', 'tz', 'f'])
    q.push({ sql: `SELECT min(${c}), max(${c}), count(${c}) FROM people`, ordered: true });
  q.push({ sql: 'SELECT bool_and(flag), bool_or(flag), every(n > -100) FROM people', ordered: true });
  q.push({ sql: 'SELECT count(*) AS total, sum(n) AS s FROM people WHERE id < 0', ordered: true });
  // Casts of merged aggregates and group keys, applied by the proxy after merging.
  for (const sql of [
    'SELECT count(*)::int, count(n)::int2, sum(n)::int4, sum(big)::int8, sum(amt)::int FROM people',
    'SELECT avg(n)::int, avg(amt)::numeric(10,1), sum(amt)::numeric(14,2), avg(n)::float8, max(f)::int FROM people',
    'SELECT grp::text, count(*)::int AS c, avg(amt)::numeric(12,2) AS a FROM people GROUP BY grp ORDER BY c DESC, grp',
    'SELECT flag::text, count(*)::text, min(name)::varchar(3) FROM people GROUP BY flag ORDER BY 1',
    'SELECT grp, sum(n)::numeric FROM people GROUP BY grp ORDER BY count(*), grp',
    'SELECT min(amt)::int, max(amt)::int, avg(f)::int FROM people WHERE n > 0',
  ])
    q.push({ sql, ordered: true });
  for (const g of ['grp', 'flag', 'd']) {
    for (const c of numeric) {
      q.push({
        sql: `SELECT ${g}, count(*), sum(${c}), avg(${c}), min(${c}), max(${c}) FROM people GROUP BY ${g} ORDER BY ${g}`,
        ordered: true,
      });
      q.push({
        sql: `SELECT ${g}, count(*), sum(${c}) FROM people GROUP BY ${g} ORDER BY ${g} DESC NULLS LAST`,
        ordered: true,
      });
      q.push({
        sql: `SELECT ${g}, avg(${c}) FROM people WHERE ${pick(predicates)} GROUP BY 1`,
        ordered: false,
      });
      q.push({
        sql: `SELECT ${g}, count(*) AS c FROM people GROUP BY ${g} HAVING count(*) > ${Math.floor(rnd() * 40)} ORDER BY c DESC, ${g}`,
        ordered: true,
      });
      q.push({
        sql: `SELECT ${g} FROM people GROUP BY ${g} HAVING sum(${c}) > 0 AND max(${c}) IS NOT NULL ORDER BY ${g}`,
        ordered: true,
      });
    }
  }
  q.push({
    sql: 'SELECT grp, flag, count(*), min(name) FROM people GROUP BY grp, flag ORDER BY grp, flag',
    ordered: true,
  });
  q.push({
    sql: 'SELECT grp, max(amt) FROM people GROUP BY grp ORDER BY max(amt) DESC NULLS LAST LIMIT 3',
    ordered: true,
  });
  for (const c of ['grp', 'flag', 'd', 'n']) {
    q.push({ sql: `SELECT DISTINCT ${c} FROM people ORDER BY ${c}`, ordered: true });
    q.push({ sql: `SELECT DISTINCT ${c} FROM people ORDER BY ${c} DESC LIMIT 4`, ordered: true });
    q.push({ sql: `SELECT DISTINCT ${c}, grp FROM people WHERE ${pick(predicates)}`, ordered: false });
  }
  for (const p of predicates) q.push({ sql: `SELECT * FROM people WHERE ${p}`, ordered: false });
  // Co-located joins (visits.pid = people.id) and joins with the reference table groups.
  q.push({
    sql: 'SELECT p.id, v.amount FROM people p JOIN visits v ON v.pid = p.id ORDER BY v.amount DESC, v.id',
    ordered: true,
  });
  q.push({
    sql: 'SELECT p.grp, count(*), sum(v.amount) FROM people p JOIN visits v ON v.pid = p.id GROUP BY p.grp ORDER BY p.grp',
    ordered: true,
  });
  q.push({
    sql: 'SELECT p.name, g.label FROM people p LEFT JOIN groups g ON g.code = p.grp ORDER BY p.id LIMIT 40',
    ordered: true,
  });
  q.push({
    sql: 'SELECT g.label, count(*) FROM people p JOIN groups g ON g.code = p.grp GROUP BY g.label ORDER BY g.label',
    ordered: true,
  });
  q.push({
    sql: 'SELECT v.id FROM visits v JOIN people p ON p.id = v.pid WHERE p.id IN (7, 8, 9) AND v.amount > 10',
    ordered: false,
  });
  q.push({ sql: 'SELECT * FROM groups ORDER BY code', ordered: true });
  return q;
}

/** Parameterised queries over the extended protocol. */
const withParams: { sql: string; values: unknown[] }[] = [
  { sql: 'SELECT id, name FROM people WHERE id = $1', values: [42] },
  { sql: 'SELECT id, name FROM people WHERE id = ANY($1) ORDER BY id', values: [[1, 2, 3, 50, 99]] },
  { sql: 'SELECT id FROM people WHERE n > $1 ORDER BY n DESC, id LIMIT $2 OFFSET $3', values: [20, 5, 2] },
  { sql: 'SELECT grp, count(*), avg(amt) FROM people WHERE n > $1 GROUP BY grp ORDER BY grp', values: [0] },
];

let rig: ShardedRig;
let sharded: pg.Client;
let single: pg.Client;

interface Answer {
  fields: [string, number][];
  rows: unknown[][];
}

async function answer(
  c: pg.Client,
  sql: string,
  values: unknown[] | undefined,
  ordered: boolean,
): Promise<Answer> {
  const r = await c.query({ text: sql, values, rowMode: 'array', types: rawTypes });
  const rowsOut = r.rows as unknown[][];
  if (!ordered) rowsOut.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return { fields: r.fields.map((f) => [f.name, f.dataTypeID]), rows: rowsOut };
}

beforeAll(async () => {
  rig = await startShardedRig({
    sharding: { tables: { people: 'id', visits: 'pid' }, reference: ['groups'] },
    single: 'sharding_differential',
  });
  ({ sharded, single } = rig);
  const data = rows(400);
  const visits = Array.from(
    { length: 600 },
    (_, i) => `(${i + 1}, ${1 + Math.floor(rnd() * 450)}, ${(rnd() * 100).toFixed(2)})`,
  );
  for (const c of [sharded, single]) {
    await c.query(schema);
    for (let i = 0; i < data.length; i += 50)
      await c.query(`INSERT INTO people VALUES ${data.slice(i, i + 50).join(', ')}`);
    await c.query('CREATE TABLE visits (id int8, pid int8, amount numeric(8,2))');
    await c.query(`INSERT INTO visits (id, pid, amount) VALUES ${visits.join(', ')}`);
    await c.query('CREATE TABLE groups (code text PRIMARY KEY, label text)');
    await c.query("INSERT INTO groups VALUES ('a', 'Alpha'), ('b', 'Beta'), ('c', 'Gamma'), ('B', 'Big')");
  }
});

afterAll(() => rig?.stop());

describe('sharded results equal one PostgreSQL', () => {
  it('has the data spread over every shard', async () => {
    const r = await sharded.query('SELECT count(*) FROM people');
    expect(r.rows[0].count).toBe('400');
  });

  const all = queries();
  it(`generates a few hundred queries (${all.length})`, () => {
    expect(all.length).toBeGreaterThan(250);
  });

  for (const { sql, ordered } of all) {
    it(sql, async () => {
      const expected = await answer(single, sql, undefined, ordered);
      expect(await answer(sharded, sql, undefined, ordered)).toEqual(expected);
    });
  }

  for (const { sql, values } of withParams) {
    it(`${sql} with parameters`, async () => {
      const expected = await answer(single, sql, values, true);
      expect(await answer(sharded, sql, values, true)).toEqual(expected);
    });
  }
});

/** The rows a cursor reads in batches of `size` until it runs dry, batch by batch. */
async function batches(c: pg.Client, sql: string, size: number): Promise<unknown[][][]> {
  const cursor = c.query(new Cursor(sql, undefined, { rowMode: 'array', types: rawTypes }));
  const out: unknown[][][] = [];
  for (;;) {
    const rows = (await cursor.read(size)) as unknown[][];
    out.push(rows);
    if (rows.length === 0) break;
  }
  await cursor.close();
  return out;
}

/** Parse, Bind, then Executes of `maxRows` until the portal completes, then Sync: the rows, suspensions and tag. */
async function limitedRun(conn: RawConnection, sql: string, maxRows: number): Promise<[string, string][]> {
  const parse = new MessageWriter(Frontend.Parse).cstring('').cstring(sql).int16(0).finish();
  const bind = new MessageWriter(Frontend.Bind).cstring('').cstring('').int16(0).int16(0).int16(0).finish();
  const execute = new MessageWriter(Frontend.Execute).cstring('').int32(maxRows).finish();
  const seen: [string, string][] = [];
  const note = (m: BackendMessage) => {
    if (m.type === 'D' || m.type === 's' || m.type === 'C') seen.push([m.type, m.body.toString('hex')]);
  };
  const flush = Buffer.from([Frontend.Flush, 0, 0, 0, 4]);
  conn.write(Buffer.concat([parse, bind, execute, flush]));
  for (;;) {
    const m = await conn.next();
    if (!m) throw new Error('connection closed');
    note(m);
    if (m.type === 'C' || m.type === 'E') break;
    if (m.type === 's') conn.write(Buffer.concat([execute, flush]));
  }
  conn.write(sync);
  await conn.untilReady();
  return seen;
}

describe('Execute with a row limit, as one PostgreSQL', () => {
  const limited = [
    'SELECT id, name, n FROM people ORDER BY id',
    'SELECT id, amt FROM people WHERE n > 10 ORDER BY amt DESC NULLS LAST, id LIMIT 30',
    'SELECT grp, count(*), sum(amt) FROM people GROUP BY grp ORDER BY grp',
    'SELECT id, name FROM people WHERE id = 17',
    'SELECT id FROM people WHERE id < 0',
  ];
  for (const sql of limited) {
    it(`reads ${sql} through a cursor in the same batches`, async () => {
      for (const size of [1, 7, 100])
        expect(await batches(sharded, sql, size)).toEqual(await batches(single, sql, size));
    });
  }

  it("suspends the portal at each limit, at the last row too, and ends with the last run's count", async () => {
    const ctx = directConfig('sharding_differential');
    const { conn: direct } = await RawConnection.login(ctx.port!, {
      user: ctx.user!,
      password: String(ctx.password),
      database: ctx.database!,
    });
    const { conn: through } = await RawConnection.login(rig.proxy.port, {
      user: 'app',
      password: 'app-secret',
      database: 'app',
    });
    try {
      // 12 rows in runs of 5 (ends with 2), of 4 (the limit meets the last row) and of 50 (no suspension).
      const sql = 'SELECT id, name FROM people WHERE id <= 12 ORDER BY id';
      for (const maxRows of [5, 4, 50]) {
        const expected = await limitedRun(direct, sql, maxRows);
        expect(expected.filter(([t]) => t === 's').length).toBe(maxRows === 5 ? 2 : maxRows === 4 ? 3 : 0);
        expect(await limitedRun(through, sql, maxRows)).toEqual(expected);
      }
    } finally {
      direct.socket.destroy();
      through.socket.destroy();
    }
  });
});
