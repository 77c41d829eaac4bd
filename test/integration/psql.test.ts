// psql and pgbench through the proxy: the same scripts print exactly what PostgreSQL itself prints.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directUrl, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { psql, runTool } from './helpers/tools.js';

const script = String.raw`
DROP TABLE IF EXISTS psql_script_items;
CREATE TABLE psql_script_items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), added date);
INSERT INTO psql_script_items VALUES (1, 'apple', 1.25, '2024-01-02'), (2, 'pear', 2.50, '2024-02-03');
COPY psql_script_items FROM STDIN;
3	plum	0.75	2024-03-04
4	fig	\N	2024-04-05
\.
BEGIN;
UPDATE psql_script_items SET price = price * 2 WHERE id = 1;
SAVEPOINT s1;
DELETE FROM psql_script_items;
ROLLBACK TO SAVEPOINT s1;
COMMIT;
SELECT * FROM psql_script_items ORDER BY id;
SELECT 1/0;
INSERT INTO psql_script_items VALUES (1, 'duplicate', 0, NULL);
SELECT count(*) AS n, sum(price) AS total FROM psql_script_items \gset
\echo total is :total for :n items
PREPARE by_id(int) AS SELECT name FROM psql_script_items WHERE id = $1;
EXECUTE by_id(3);
DEALLOCATE by_id;
SELECT name, price FROM psql_script_items WHERE price > 1 \g
DO $$ BEGIN RAISE NOTICE 'hello from %', 'plpgsql'; END $$;
\d psql_script_items
\x on
SELECT 'a' AS x, 2 AS y, NULL::text AS z;
\x off
SELECT string_agg(name, ',' ORDER BY id), array_agg(id ORDER BY id) FROM psql_script_items;
SELECT E'tab\there' AS escaped, 'ünïcödé ✓' AS unicode, '\x00ff'::bytea AS bytes;
DROP TABLE psql_script_items;
`;

describe('psql', () => {
  let proxy: TestProxy;
  let dir: string;
  beforeAll(async () => {
    proxy = await startTestProxy({ poolSize: 2 });
    dir = await mkdtemp(join(tmpdir(), 'polyproxy-psql-'));
  });
  afterAll(() => proxy.close());

  it('prints the same as PostgreSQL for several statements in one -c', async () => {
    const args = ['-c', "SELECT 1 AS one, 'two' AS two; SELECT nope; SELECT generate_series(1, 3) AS g"];
    const direct = await psql(directUrl(), args);
    const proxied = await psql(proxy.url(), args);
    expect(direct.stdout).toContain('one');
    expect(proxied).toEqual(direct);
  });

  it('keeps session state across several -c options on one connection', async () => {
    const args = [
      '-c',
      'CREATE TEMP TABLE psql_c_temp (x int)',
      '-c',
      'INSERT INTO psql_c_temp SELECT generate_series(1, 10)',
      '-c',
      "SET TimeZone = 'Asia/Tokyo'",
      '-c',
      "SELECT sum(x), current_setting('TimeZone') FROM psql_c_temp",
    ];
    const direct = await psql(directUrl(), args);
    const proxied = await psql(proxy.url(), args);
    expect(direct.stdout).toContain('55 | Asia/Tokyo');
    expect(proxied).toEqual(direct);
  });

  it('prints the same as PostgreSQL for a script file with COPY, errors, \\gset and \\d, in both pool modes', async () => {
    const file = join(dir, 'script.sql');
    await writeFile(file, script);
    const direct = await psql(directUrl(), ['-f', file]);
    expect(direct.stdout).toContain('total is 5.75 for 4 items');
    expect(direct.stderr).toContain('division by zero');
    for (const database of ['app', 'sess']) {
      const proxied = await psql(proxy.url('app', database), ['-f', file]);
      expect({ database, ...proxied }).toEqual({ database, ...direct });
    }
  });

  it('stops at the first error with ON_ERROR_STOP like PostgreSQL does', async () => {
    const args = [
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      'SELECT 1',
      '-c',
      'SELECT * FROM no_such_table',
      '-c',
      'SELECT 3',
    ];
    const direct = await psql(directUrl(), args);
    const proxied = await psql(proxy.url(), args);
    expect(direct.code).not.toBe(0);
    expect(proxied).toEqual(direct);
  });
});

describe('pgbench', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startTestProxy({ poolSize: 2 });
  });
  afterAll(async () => {
    await runTool('pgbench', ['-i', '-I', 'd', directUrl()]);
    await proxy.close();
  });

  it('initializes and runs 8 clients in every query mode over a 2-connection transaction pool', async () => {
    const init = await runTool('pgbench', ['-i', '-s', '1', '-q', proxy.url()]);
    expect(init.stderr).toContain('done');
    expect(init.code).toBe(0);
    // One thread per client: pgbench blocks a thread in PQprepare, which would stall the clients holding the pool.
    for (const mode of ['simple', 'extended', 'prepared']) {
      const run = await runTool('pgbench', ['-n', '-c', '8', '-j', '8', '-t', '40', '-M', mode, proxy.url()]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('number of transactions actually processed: 320/320');
      expect(run.stdout).toContain('number of failed transactions: 0');
    }
  });
});
