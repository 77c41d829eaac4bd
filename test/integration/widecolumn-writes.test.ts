// The wide-column plugin's conditional writes, counters, tuples and user-defined types, and binary bytea, on a real Cassandra 5.0.
import cassandra from 'cassandra-driver';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCassandra, type CassandraServer } from '../../src/sandbox/cassandra.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';

let server: CassandraServer;
let direct: cassandra.Client;
let proxy: TestProxy;
let reference: pg.Client;
let client: pg.Client;

const accounts: [number, string, number | null, string | null][] = [
  [1, 'a', 100, 'x'],
  [2, 'b', null, null],
  [3, 'c', 60, 'y'],
  [4, 'd', 5, null],
];

beforeAll(async () => {
  server = await startCassandra({ maxHeap: '512m' });
  direct = new cassandra.Client({ contactPoints: [server.contactPoint], localDataCenter: server.dataCenter });
  for (const cql of [
    "CREATE KEYSPACE bank WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    'CREATE TABLE bank.accounts (id int PRIMARY KEY, owner text, balance int, note text)',
    'CREATE TABLE bank.hits (page text PRIMARY KEY, views counter, clicks counter)',
    'CREATE TYPE bank.address (street text, zip int, tags list<text>)',
    'CREATE TABLE bank.places (id int PRIMARY KEY, spot frozen<tuple<int, text, double>>, addr frozen<address>, photo blob)',
  ])
    await direct.execute(cql);
  for (const row of accounts)
    await direct.execute('INSERT INTO bank.accounts (id, owner, balance, note) VALUES (?, ?, ?, ?)', row, {
      prepare: true,
    });
  const admin = new pg.Client(directConfig('app'));
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS widecolumn_writes_reference');
  await admin.query('CREATE DATABASE widecolumn_writes_reference');
  await admin.end();
  reference = new pg.Client(directConfig('widecolumn_writes_reference'));
  await reference.connect();
  await reference.query('CREATE SCHEMA wide');
  await reference.query(
    'CREATE TABLE wide.accounts (id int PRIMARY KEY, owner text, balance int, note text)',
  );
  for (const row of accounts) await reference.query('INSERT INTO wide.accounts VALUES ($1, $2, $3, $4)', row);
  proxy = await startTestProxy({
    pluginsYaml: [
      '  widecolumn:',
      `    contact_points: [${JSON.stringify(server.contactPoint)}]`,
      `    local_datacenter: ${server.dataCenter}`,
      '    keyspace: bank',
      '    schema: wide',
      '    read_consistency: one',
      '    write_consistency: one',
    ].join('\n'),
  });
  client = new pg.Client(proxy.client());
  await client.connect();
}, 300_000);

afterAll(async () => {
  await client?.end();
  await reference?.end();
  await proxy?.close();
  await direct?.shutdown();
  await server?.stop();
});

async function sqlstateOf(sql: string, params: unknown[] = []): Promise<string | undefined> {
  try {
    await client.query(sql, params);
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

const everyAccount = 'SELECT id, owner, balance, note FROM wide.accounts WHERE id IN (1, 2, 3, 4, 99)';
const sorted = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));

describe('conditional writes (WHERE on other columns as IF), as PostgreSQL counts them', () => {
  const steps: [string, unknown[]][] = [
    ['UPDATE wide.accounts SET balance = 90 WHERE id = 1 AND balance = 100', []],
    ['UPDATE wide.accounts SET balance = 80 WHERE id = 1 AND balance = 100', []],
    ["UPDATE wide.accounts SET note = 'n' WHERE id = 2 AND note = 'x'", []],
    ['UPDATE wide.accounts SET note = $1 WHERE id = 2 AND balance < 10', ['low']],
    ["UPDATE wide.accounts SET note = 'big' WHERE id = 3 AND balance > 50 AND owner = 'c'", []],
    ['UPDATE wide.accounts SET balance = 1 WHERE id = 99 AND balance = 1', []],
    ["UPDATE wide.accounts SET owner = 'aa' WHERE id = 1 AND owner IN ('a', 'z')", []],
    ['UPDATE wide.accounts SET balance = 2 WHERE id = 1 AND note = $1', [null]],
    ['UPDATE wide.accounts SET balance = $2 WHERE id = $1 AND balance <= 5', [4, 6]],
    ["DELETE FROM wide.accounts WHERE id = 4 AND owner = 'nope'", []],
    ["DELETE FROM wide.accounts WHERE id = 4 AND owner = 'd' AND balance >= 6", []],
    ['DELETE FROM wide.accounts WHERE id = 2 AND balance = 0', []],
  ];

  it.each(steps)('%s', async (sql, params) => {
    const expected = await reference.query(sql, params);
    const through = await client.query(sql, params);
    expect([through.command, through.rowCount]).toEqual([expected.command, expected.rowCount]);
    expect(sorted((await client.query(everyAccount)).rows)).toEqual(
      sorted((await reference.query(everyAccount)).rows),
    );
  });

  it('refuses conditions over more than one row', async () => {
    expect(await sqlstateOf('UPDATE wide.accounts SET balance = 1 WHERE balance = 5')).toBe('0A000');
    expect(await sqlstateOf("DELETE FROM wide.accounts WHERE id IN (1, 3) AND owner = 'c'")).toBe('0A000');
  });
});

describe('counters', () => {
  it('adds and subtracts, creating the row on its first increment', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await client.query("UPDATE wide.hits SET views = views + 1 WHERE page = 'home'");
      expect(res.rowCount).toBe(1);
    }
    await client.query('UPDATE wide.hits SET views = views - $1, clicks = 2 + clicks WHERE page = $2', [
      1,
      'home',
    ]);
    const res = await client.query("SELECT views, clicks FROM wide.hits WHERE page = 'home'");
    expect(res.rows).toEqual([{ views: '2', clicks: '2' }]);
    const stored = await direct.execute("SELECT views FROM bank.hits WHERE page = 'home'");
    expect(stored.first().get('views').toString()).toBe('2');
  });

  it('refuses what counters do not take: INSERT, setting a value, conditions, TTL', async () => {
    expect(await sqlstateOf("INSERT INTO wide.hits (page, views) VALUES ('x', 1)")).toBe('0A000');
    expect(await sqlstateOf("UPDATE wide.hits SET views = 5 WHERE page = 'home'")).toBe('0A000');
    expect(
      await sqlstateOf("UPDATE wide.hits SET views = views + 1 WHERE page = 'home' AND clicks = 2"),
    ).toBe('0A000');
    expect(
      await sqlstateOf(
        "/* polyproxy: cassandra ttl=5 */ UPDATE wide.hits SET views = views + 1 WHERE page = 'h'",
      ),
    ).toBe('0A000');
  });

  it('deletes a counter row, counted first', async () => {
    const first = await client.query("DELETE FROM wide.hits WHERE page = 'home'");
    const again = await client.query("DELETE FROM wide.hits WHERE page = 'home'");
    expect([first.rowCount, again.rowCount]).toEqual([1, 0]);
  });
});

describe('tuples, user-defined types and blobs', () => {
  it('reads tuples and user-defined types as jsonb, as PostgreSQL prints it', async () => {
    await direct.execute(
      'INSERT INTO bank.places (id, spot, addr) VALUES (?, ?, ?)',
      [
        1,
        cassandra.types.Tuple.fromArray([7, 'north', 1.5]),
        { street: 'Main "1"', zip: 12345, tags: ['a', 'b'] },
      ],
      { prepare: true },
    );
    const res = await client.query({
      text: 'SELECT spot, addr FROM wide.places WHERE id = 1',
      types: { getTypeParser: () => (value: string) => value },
    });
    const expected = await reference.query(
      `SELECT '[7, "north", 1.5]'::jsonb::text AS spot, '{"street": "Main \\"1\\"", "zip": 12345, "tags": ["a", "b"]}'::jsonb::text AS addr`,
    );
    expect(res.rows).toEqual(expected.rows);
    expect(res.fields.map((f) => f.dataTypeID)).toEqual([3802, 3802]);
  });

  it('writes tuples and user-defined types from jsonb text', async () => {
    await client.query('INSERT INTO wide.places (id, spot, addr) VALUES ($1, $2, $3)', [
      2,
      '[8, "south", -2.25]',
      '{"street": "Side", "zip": 9, "tags": ["c"]}',
    ]);
    const row = (await direct.execute('SELECT spot, addr FROM bank.places WHERE id = 2')).first();
    expect(row.get('spot').elements).toEqual([8, 'south', -2.25]);
    expect(row.get('addr')).toEqual({ street: 'Side', zip: 9, tags: ['c'] });
  });

  it('takes a blob as a binary parameter with its type left open (a Buffer from node-postgres)', async () => {
    const photo = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x5c, 0x78]);
    await client.query('UPDATE wide.places SET photo = $1 WHERE id = $2', [photo, 1]);
    const stored = await direct.execute('SELECT photo FROM bank.places WHERE id = 1');
    expect(stored.first().get('photo')).toEqual(photo);
    const res = await client.query('SELECT photo FROM wide.places WHERE id = $1', [1]);
    expect(res.rows).toEqual([{ photo }]);
  });
});
