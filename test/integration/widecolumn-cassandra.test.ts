// The wide-column plugin on a real Cassandra 5.0: the same SQL through polyproxy and on PostgreSQL (differential), and node-postgres end to end.
import cassandra from 'cassandra-driver';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCassandra, type CassandraServer } from '../../src/sandbox/cassandra.js';
import { freePort } from '../../src/sandbox/ports.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';

let server: CassandraServer;
let direct: cassandra.Client;
let proxy: TestProxy;
let downProxy: TestProxy;
let reference: pg.Client;
let client: pg.Client;

const textTypes = { getTypeParser: () => (value: string) => value };

/** The same rows in both stores: 3 sensors x 2 days x 4 hours x 2 readings. */
function readings(): unknown[][] {
  const rows: unknown[][] = [];
  for (const sensor of ['s1', 's2', 's3'])
    for (const day of [1, 2])
      for (let hour = 0; hour < 4; hour++)
        for (const seq of [1, 2]) {
          const n = rows.length;
          rows.push([
            sensor,
            day,
            new Date(Date.UTC(2024, 0, day, hour, 30 * (seq - 1), 0, 250 * (n % 4))),
            seq,
            n % 5 === 0 ? null : `note ${n}`,
            n % 2 === 0,
            `${n}.${n % 3 === 0 ? '5' : '25'}`,
            n * 7 - 40,
            BigInt(n) * 1_000_000_007n,
            n % 7 === 0 ? null : n / 4,
          ]);
        }
  return rows;
}

const cqlColumns = 'sensor, day, at, seq, note, ok, price, reading, total, value';

async function loadCassandra(): Promise<void> {
  await direct.execute(
    "CREATE KEYSPACE shop WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
  );
  await direct.execute(
    'CREATE TABLE shop.readings (sensor text, day int, at timestamp, seq int, note text, ok boolean, ' +
      'price decimal, reading int, total bigint, value double, PRIMARY KEY ((sensor, day), at, seq)) ' +
      'WITH CLUSTERING ORDER BY (at DESC, seq ASC)',
  );
  await direct.execute('CREATE TABLE shop.logs (app text PRIMARY KEY, line text)');
  await direct.execute(
    'CREATE TABLE shop.kinds (k int PRIMARY KEY, addr inet, attrs map<text, int>, big bigint, bin blob, d date, ' +
      'dbl double, dec decimal, flt float, id uuid, labels set<text>, n varint, small smallint, t time, ' +
      'tags list<text>, tid timeuuid, ts timestamp, txt text, yes boolean)',
  );
  const insert = `INSERT INTO shop.readings (${cqlColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  for (const row of readings()) {
    const [sensor, day, at, seq, note, ok, price, reading, total, value] = row;
    await direct.execute(
      insert,
      [
        sensor,
        day,
        at,
        seq,
        note,
        ok,
        cassandra.types.BigDecimal.fromString(price as string),
        reading,
        cassandra.types.Long.fromString(String(total)),
        value,
      ],
      { prepare: true },
    );
  }
}

async function loadPostgres(): Promise<void> {
  const admin = new pg.Client(directConfig('app'));
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS widecolumn_reference');
  await admin.query('CREATE DATABASE widecolumn_reference');
  await admin.end();
  reference = new pg.Client(directConfig('widecolumn_reference'));
  await reference.connect();
  await reference.query("SET TimeZone = 'UTC'");
  await reference.query('CREATE SCHEMA wide');
  await reference.query(
    'CREATE TABLE wide.readings (sensor text, day int, at timestamptz, seq int, note text, ok boolean, ' +
      'price numeric, reading int, total bigint, value float8, PRIMARY KEY (sensor, day, at, seq))',
  );
  for (const row of readings())
    await reference.query(
      `INSERT INTO wide.readings (${cqlColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      row.map((v) => (typeof v === 'bigint' ? v.toString() : v)),
    );
}

beforeAll(async () => {
  server = await startCassandra({ maxHeap: '512m' });
  direct = new cassandra.Client({ contactPoints: [server.contactPoint], localDataCenter: server.dataCenter });
  await loadCassandra();
  await loadPostgres();
  const plugin = (contactPoint: string, extra: string[] = []) =>
    [
      '  widecolumn:',
      `    contact_points: [${JSON.stringify(contactPoint)}]`,
      `    local_datacenter: ${server.dataCenter}`,
      '    keyspace: shop',
      '    schema: wide',
      '    read_consistency: one',
      '    write_consistency: one',
      // Small pages: every multi-row result below is read across several pages.
      '    page_size: 3',
      ...extra,
    ].join('\n');
  proxy = await startTestProxy({ pluginsYaml: plugin(server.contactPoint, ['    allow_filtering: [logs]']) });
  // A second proxy whose Cassandra is down shows that only statements on its schema fail.
  downProxy = await startTestProxy({
    pluginsYaml: plugin(`127.0.0.1:${await freePort()}`, ['    connect_timeout: 500ms']),
  });
  client = new pg.Client(proxy.client());
  await client.connect();
}, 300_000);

afterAll(async () => {
  await client?.end();
  await reference?.end();
  await proxy?.close();
  await downProxy?.close();
  await direct?.shutdown();
  await server?.stop();
});

async function textRows(on: pg.Client, sql: string, params: unknown[] = []): Promise<unknown[][]> {
  const result = await on.query({ text: sql, values: params, rowMode: 'array', types: textTypes });
  return result.rows as unknown[][];
}

async function sqlstateOf(on: pg.Client, sql: string, params: unknown[] = []): Promise<string | undefined> {
  try {
    await on.query(sql, params);
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('differential: polyproxy on Cassandra vs PostgreSQL', () => {
  const allowed: [string, unknown[]][] = [
    ["SELECT * FROM wide.readings WHERE sensor = 's1' AND day = 1 ORDER BY at DESC, seq", []],
    [
      'SELECT at, seq, value FROM wide.readings WHERE sensor = $1 AND day = $2 ORDER BY at, seq DESC',
      ['s2', 2],
    ],
    [
      "SELECT seq, reading FROM wide.readings WHERE sensor = 's3' AND day = 1 AND at >= $1 AND at < $2 ORDER BY at DESC, seq",
      ['2024-01-01 01:00:00+00', '2024-01-01 03:00:00+00'],
    ],
    [
      "SELECT note FROM wide.readings WHERE sensor = 's1' AND day = 2 AND at = '2024-01-02 02:00:00.5+00' AND seq = 1",
      [],
    ],
    ["SELECT at FROM wide.readings WHERE sensor = 's1' AND day = 1 ORDER BY at DESC LIMIT 3", []],
    ['SELECT at FROM wide.readings WHERE sensor = $1 AND day = 1 ORDER BY at DESC, seq LIMIT $2', ['s2', 4]],
    [
      "SELECT count(*), count(note), min(value), max(reading), sum(reading), sum(total), avg(reading), avg(price), sum(price) FROM wide.readings WHERE sensor = 's1' AND day = 1",
      [],
    ],
    [
      "SELECT count(*), sum(reading), avg(value), max(note) FROM wide.readings WHERE sensor = 'nobody' AND day = 1",
      [],
    ],
    ["SELECT avg(value) AS mean FROM wide.readings WHERE sensor = 's2' AND day = 2", []],
    ['SELECT seq FROM wide.readings WHERE sensor = NULL AND day = 1', []],
    [
      "SELECT sensor, day, at, count(*) AS n, sum(reading), avg(value) FROM wide.readings WHERE sensor = 's1' AND day = 1 GROUP BY sensor, day, at ORDER BY at DESC",
      [],
    ],
  ];

  it.each(allowed)('%s', async (sql, params) => {
    const expected = await textRows(reference, sql, params);
    expect(await textRows(client, sql, params)).toEqual(expected);
  });

  it('answers IN across partitions with the same rows and groups (in partition order, so compared sorted)', async () => {
    const sql =
      "SELECT sensor, day, seq, total FROM wide.readings WHERE sensor IN ('s1', 's3') AND day IN (1, 2) AND at = '2024-01-01 00:00:00+00'";
    const sort = (rows: unknown[][]) => rows.map((r) => JSON.stringify(r)).sort();
    expect(sort(await textRows(client, sql))).toEqual(sort(await textRows(reference, sql)));
    const grouped =
      "SELECT sensor, day, count(*), max(value), sum(total) FROM wide.readings WHERE sensor IN ('s1', 's2') AND day IN (1, 2) GROUP BY sensor, day";
    expect(sort(await textRows(client, grouped))).toEqual(sort(await textRows(reference, grouped)));
  });

  const refused = [
    'SELECT * FROM wide.readings',
    "SELECT * FROM wide.readings WHERE sensor = 's1'",
    "SELECT * FROM wide.readings WHERE sensor = 's1' AND day = 1 AND note = 'x'",
    "SELECT * FROM wide.readings WHERE sensor = 's1' AND day = 1 AND seq = 1",
    "SELECT * FROM wide.readings WHERE sensor = 's1' AND day = 1 ORDER BY value",
    "SELECT * FROM wide.readings WHERE sensor = 's1' AND day = 1 ORDER BY seq",
    "SELECT stddev(value) FROM wide.readings WHERE sensor = 's1' AND day = 1",
    'SELECT count(*) FROM wide.readings',
  ];

  it.each(refused)('refuses %s with 0A000 where PostgreSQL answers', async (sql) => {
    await expect(reference.query(sql)).resolves.toBeDefined();
    expect(await sqlstateOf(client, sql)).toBe('0A000');
  });
});

describe('end to end with node-postgres', () => {
  it('decodes every mapped type natively over the extended protocol', async () => {
    const id = '6f1d2b1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
    const tid = '8e2f6a00-b0a1-11ee-8c90-0242ac120002';
    const inserted = await client.query(
      'INSERT INTO wide.kinds (k, addr, attrs, big, bin, d, dbl, dec, flt, id, labels, n, small, t, tags, tid, ts, txt, yes) ' +
        'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)',
      [
        1,
        '10.0.0.1',
        '{"b": 2, "a": 1}',
        '9007199254740993',
        // bytea as text: node-postgres sends Buffers in binary with an unspecified type, which the host reads as text.
        '\\x0102ff',
        '2024-02-29',
        1.5,
        '12345678901234567890.123',
        0.25,
        id,
        '["x", "y"]',
        '-123456789012345678901234567890',
        7,
        '10:11:12.5',
        '["p", "q"]',
        tid,
        '2024-01-02T03:04:05.678Z',
        'héllo',
        true,
      ],
    );
    expect([inserted.command, inserted.rowCount]).toEqual(['INSERT', 1]);
    const res = await client.query('SELECT * FROM wide.kinds WHERE k = $1', [1]);
    expect(res.fields.map((f) => f.dataTypeID)).toEqual([
      23, 869, 3802, 20, 17, 1082, 701, 1700, 700, 2950, 3802, 1700, 21, 1083, 3802, 2950, 1184, 25, 16,
    ]);
    const row = res.rows[0] as Record<string, unknown>;
    expect(row).toMatchObject({
      k: 1,
      addr: '10.0.0.1',
      attrs: { a: 1, b: 2 },
      big: '9007199254740993',
      bin: Buffer.from([1, 2, 255]),
      dbl: 1.5,
      dec: '12345678901234567890.123',
      flt: 0.25,
      id,
      labels: ['x', 'y'],
      n: '-123456789012345678901234567890',
      small: 7,
      t: '10:11:12.5',
      tags: ['p', 'q'],
      tid,
      ts: new Date('2024-01-02T03:04:05.678Z'),
      txt: 'héllo',
      yes: true,
    });
    const stored = await direct.execute('SELECT attrs, n FROM shop.kinds WHERE k = 1');
    expect(stored.first().get('n').toString()).toBe('-123456789012345678901234567890');
  });

  it('writes with the counts PostgreSQL would report, visible to CQL', async () => {
    const base = ['p1', 7, '2024-03-01 00:00:00+00'];
    const ins = await client.query(
      'INSERT INTO wide.readings (sensor, day, at, seq, reading) VALUES ($1, $2, $3, 1, 10), ($1, $2, $3, 2, 20)',
      base,
    );
    expect([ins.command, ins.rowCount]).toEqual(['INSERT', 2]);
    const upd = await client.query(
      'UPDATE wide.readings SET reading = $4, note = $5 WHERE sensor = $1 AND day = $2 AND at = $3 AND seq = 1',
      [...base, 11, 'fixed'],
    );
    expect(upd.rowCount).toBe(1);
    const missing = await client.query(
      'UPDATE wide.readings SET reading = 1 WHERE sensor = $1 AND day = $2 AND at = $3 AND seq = 9',
      base,
    );
    expect(missing.rowCount).toBe(0);
    const rows = await direct.execute(
      'SELECT seq, reading, note FROM shop.readings WHERE sensor = ? AND day = ?',
      ['p1', 7],
      { prepare: true },
    );
    expect(rows.rows.map((r) => [r.get('seq'), r.get('reading'), r.get('note')])).toEqual([
      [1, 11, 'fixed'],
      [2, 20, null],
    ]);
    const one = await client.query(
      'DELETE FROM wide.readings WHERE sensor = $1 AND day = $2 AND at = $3 AND seq = 2',
      base,
    );
    const again = await client.query(
      'DELETE FROM wide.readings WHERE sensor = $1 AND day = $2 AND at = $3 AND seq = 2',
      base,
    );
    const rest = await client.query(
      'DELETE FROM wide.readings WHERE sensor = $1 AND day = $2',
      base.slice(0, 2),
    );
    expect([one.rowCount, again.rowCount, rest.rowCount]).toEqual([1, 0, 1]);
  });

  it('refuses writes in a transaction block and in a read-only transaction; reads still work there', async () => {
    const write = "INSERT INTO wide.logs (app, line) VALUES ('a', 'x')";
    await client.query('BEGIN');
    expect(await sqlstateOf(client, write)).toBe('0A000');
    await client.query('ROLLBACK');
    await client.query('BEGIN READ ONLY');
    expect(await sqlstateOf(client, write)).toBe('25006');
    await client.query('ROLLBACK');
    await client.query('BEGIN');
    const read = await client.query("SELECT count(*)::text AS n FROM pg_class WHERE relname = 'x'");
    expect(read.rows).toHaveLength(1);
    await client.query('COMMIT');
  });

  it('inserts only new rows with ON CONFLICT DO NOTHING and expires rows written with ttl=', async () => {
    const first = await client.query(
      "INSERT INTO wide.logs (app, line) VALUES ('lwt', 'first') ON CONFLICT DO NOTHING",
    );
    const second = await client.query(
      "INSERT INTO wide.logs (app, line) VALUES ('lwt', 'second') ON CONFLICT DO NOTHING",
    );
    expect([first.rowCount, second.rowCount]).toEqual([1, 0]);
    expect((await client.query("SELECT line FROM wide.logs WHERE app = 'lwt'")).rows).toEqual([
      { line: 'first' },
    ]);
    await client.query(
      "/* polyproxy: cassandra ttl=3600 */ INSERT INTO wide.logs (app, line) VALUES ('ttl', $1)",
      ['x'],
    );
    const ttl = await direct.execute("SELECT ttl(line) AS left FROM shop.logs WHERE app = 'ttl'");
    expect(Number(ttl.first().get('left'))).toBeGreaterThan(3500);
  });

  it('filters a table listed in allow_filtering', async () => {
    await client.query("INSERT INTO wide.logs (app, line) VALUES ('a', 'one'), ('b', 'two')");
    const res = await client.query("SELECT app FROM wide.logs WHERE line = 'two'");
    expect(res.rows).toEqual([{ app: 'b' }]);
  });

  it('EXPLAIN ROUTE prints the CQL and its consistency, or the refusal; metrics count statements', async () => {
    const res = await client.query(
      "EXPLAIN ROUTE SELECT seq FROM wide.readings WHERE sensor = 's1' AND day = 1 LIMIT 2",
    );
    const text = res.rows.map((r: Record<string, string>) => Object.values(r).join(' ')).join('\n');
    expect(text).toContain('SELECT "seq" FROM "shop"."readings" WHERE "sensor" = ? AND "day" = ? LIMIT ?');
    expect(text).toContain('consistency one');
    const refused = await client.query('EXPLAIN ROUTE SELECT * FROM wide.readings');
    expect(JSON.stringify(refused.rows)).toContain('refused with 0A000');
    const metrics = await (await fetch(`http://127.0.0.1:${proxy.adminPort}/metrics`)).text();
    expect(metrics).toMatch(
      /polyproxy_plugin_widecolumn_statements_total\{kind="select",outcome="ok"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /polyproxy_plugin_widecolumn_statements_total\{kind="select",outcome="refused"\} [1-9]/,
    );
  });

  it('maps Cassandra errors and unknown tables to SQLSTATEs', async () => {
    expect(await sqlstateOf(client, 'SELECT * FROM wide.nothere WHERE k = 1')).toBe('42P01');
    expect(await sqlstateOf(client, "SELECT nope FROM wide.readings WHERE sensor = 's1' AND day = 1")).toBe(
      '42703',
    );
    expect(
      await sqlstateOf(client, 'SELECT * FROM wide.readings WHERE sensor = $1 AND day = $2', ['s1', 'x']),
    ).toBe('22P02');
  });

  it('with Cassandra down fails its statements with 08006 while PostgreSQL traffic goes on', async () => {
    const other = new pg.Client(downProxy.client());
    await other.connect();
    try {
      expect(await sqlstateOf(other, "SELECT * FROM wide.readings WHERE sensor = 's1' AND day = 1")).toBe(
        '08006',
      );
      expect((await other.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(await sqlstateOf(other, "SELECT * FROM wide.readings WHERE sensor = 's1' AND day = 1")).toBe(
        '08006',
      );
    } finally {
      await other.end();
    }
  });
});

describe('Cassandra stopping under a running proxy (last: it stops the shared server)', () => {
  it('fails statements on its tables with 08006 and keeps PostgreSQL traffic going', async () => {
    const sql = "SELECT seq FROM wide.readings WHERE sensor = 's1' AND day = 1";
    expect((await client.query(sql)).rowCount).toBe(8);
    await server.stop();
    expect(await sqlstateOf(client, sql)).toBe('08006');
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(await sqlstateOf(client, sql)).toBe('08006');
  });
});
