// The mysql plugin under many distinct statement texts (a literal key in each): within the server's limit of prepared statements.
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDb } from '../../src/sandbox/mariadb.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';

let maria: MariaDb;
let proxy: TestProxy;
const rows = 400;
/** Below `rows`: every text prepared once and kept would pass it. */
const serverLimit = 200;

const admin = () => mysql.createConnection({ host: maria.host, port: maria.port, user: maria.user });

beforeAll(async () => {
  maria = await startMariaDb();
  const setup = await admin();
  try {
    await setup.query('CREATE DATABASE shop');
    await setup.query(
      'CREATE TABLE shop.items (id int NOT NULL PRIMARY KEY, name varchar(40) NOT NULL, ratio double NOT NULL)',
    );
    const values = Array.from({ length: rows }, (_, i) => `(${i + 1}, 'item-${i + 1}', ${i + 1}.5)`);
    await setup.query(`INSERT INTO shop.items VALUES ${values.join(', ')}`);
    // A server shared with other applications may have little of its limit left.
    await setup.query(`SET GLOBAL max_prepared_stmt_count = ${serverLimit}`);
  } finally {
    await setup.end();
  }
  proxy = await startTestProxy({
    pluginsYaml: [
      `  mysql:`,
      `    host: 127.0.0.1`,
      `    port: ${maria.port}`,
      `    user: root`,
      `    database: shop`,
      `    schema: legacy`,
      // 128 prepared statements kept per connection; one client uses one connection at a time.
      `    pool_size: 64`,
    ].join('\n'),
  });
});

afterAll(async () => {
  await proxy?.close();
  await maria?.stop();
});

describe('mysql plugin: distinct statement texts', () => {
  it('reads more distinct literal keys than the server keeps prepared statements, and keeps few of them', async () => {
    const client = new pg.Client(proxy.client());
    await client.connect();
    try {
      for (let id = 1; id <= rows; id++) {
        // A float column: read by a prepared statement, one per text.
        const { rows: prepared } = await client.query(`SELECT id, ratio FROM legacy.items WHERE id = ${id}`);
        expect(prepared).toEqual([{ id, ratio: id + 0.5 }]);
        // Integers and text only: a plain query, no prepared statement at all.
        const { rows: plain } = await client.query(`SELECT id, name FROM legacy.items WHERE id = ${id}`);
        expect(plain).toEqual([{ id, name: `item-${id}` }]);
      }
    } finally {
      await client.end();
    }
    const check = await admin();
    try {
      const [status] = (await check.query("SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'")) as unknown as [
        { Value: string }[],
      ];
      expect(Number(status[0].Value)).toBeLessThanOrEqual(128);
    } finally {
      await check.end();
    }
  });
});
