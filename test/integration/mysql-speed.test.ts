// Measures (prints, never asserts timings) primary-key reads and inserts through polyproxy against the mysql2 driver alone; run with MYSQL_SPEED=1.
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDb } from '../../src/sandbox/mariadb.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';

const rounds = Number(process.env.MYSQL_SPEED_ROUNDS ?? 5);
const perRound = Number(process.env.MYSQL_SPEED_COUNT ?? 400);
/** Each side's loop stops at this many milliseconds per round, whatever the count reached. */
const roundLimitMs = 5000;

let maria: MariaDb;
let proxy: TestProxy;
let direct: mysql.Connection;
let viaProxy: pg.Client;

beforeAll(async () => {
  maria = await startMariaDb();
  direct = await mysql.createConnection({
    host: maria.host,
    port: maria.port,
    user: maria.user,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  await direct.query('CREATE DATABASE shop');
  await direct.query('USE shop');
  await direct.query(
    'CREATE TABLE items (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(40) NOT NULL, qty int NULL)',
  );
  for (let i = 0; i < 10; i++)
    await direct.query(
      `INSERT INTO items (name, qty) VALUES ${Array.from({ length: 100 }, (_, j) => `('item-${i * 100 + j}', ${j})`).join(', ')}`,
    );
  proxy = await startTestProxy({
    pluginsYaml: [
      `  mysql:`,
      `    host: 127.0.0.1`,
      `    port: ${maria.port}`,
      `    user: root`,
      `    database: shop`,
      `    schema: legacy`,
    ].join('\n'),
  });
  viaProxy = new pg.Client(proxy.client());
  await viaProxy.connect();
}, 120_000);

afterAll(async () => {
  await viaProxy?.end();
  await direct?.end();
  await proxy?.close();
  await maria?.stop();
});

/** Microseconds per operation of `op`, run up to `perRound` times or `roundLimitMs`. */
async function timed(op: (i: number) => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  const deadline = Date.now() + roundLimitMs;
  let count = 0;
  while (count < perRound && Date.now() < deadline) await op(count++);
  return Number(process.hrtime.bigint() - start) / 1000 / count;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The sides alternate round by round, so that a slow moment of the machine hits both. */
async function compare(label: string, sides: Record<string, (i: number) => Promise<unknown>>): Promise<void> {
  const results: Record<string, number[]> = {};
  for (const op of Object.values(sides)) await timed(op); // warm-up: prepared statements, caches
  for (let round = 0; round < rounds; round++)
    for (const [name, op] of Object.entries(sides)) (results[name] ??= []).push(await timed(op));
  const base = median(results.driver);
  const line = Object.entries(results)
    .map(([name, us]) => `${name} ${median(us).toFixed(0)} µs (${(median(us) / base).toFixed(2)}×)`)
    .join(', ');
  console.log(`mysql speed, ${label}: ${line}`);
}

describe.skipIf(!process.env.MYSQL_SPEED)('mysql plugin: speed against the driver alone (1 client)', () => {
  it('reads a row by primary key', async () => {
    const id = (i: number) => (i % 1000) + 1;
    expect((await viaProxy.query('SELECT name FROM legacy.items WHERE id = $1', [5])).rows).toEqual([
      { name: 'item-4' },
    ]);
    await compare('primary-key read', {
      driver: (i) => direct.execute('SELECT id, name, qty FROM items WHERE id = ?', [id(i)]),
      'proxy (unnamed statement)': (i) =>
        viaProxy.query('SELECT id, name, qty FROM legacy.items WHERE id = $1', [id(i)]),
      'proxy (simple query)': (i) =>
        viaProxy.query(`SELECT id, name, qty FROM legacy.items WHERE id = ${id(i)}`),
      'proxy (named statement)': (i) =>
        viaProxy.query({
          name: 'pk',
          text: 'SELECT id, name, qty FROM legacy.items WHERE id = $1',
          values: [id(i)],
        }),
    });
  }, 300_000);

  it('inserts a row', async () => {
    await compare('insert', {
      driver: (i) => direct.execute('INSERT INTO items (name, qty) VALUES (?, ?)', [`d-${i}`, i]),
      proxy: (i) => viaProxy.query('INSERT INTO legacy.items (name, qty) VALUES ($1, $2)', [`p-${i}`, i]),
    });
  }, 300_000);
});
