// postgres.js through the transaction pool: pipelining, automatic prepared statements, sql.begin transactions.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { withClient, within } from './helpers/tools.js';

let proxy: TestProxy;
const opened: postgres.Sql[] = [];

function client(options: postgres.Options<Record<string, postgres.PostgresType>> = {}): postgres.Sql {
  const sql = postgres(proxy.url(), { max: 1, onnotice: () => {}, ...options });
  opened.push(sql);
  return sql;
}

beforeAll(async () => {
  proxy = await startTestProxy({ poolSize: 2 });
  await withClient(directConfig(), (c) =>
    c.query(`
      DROP TABLE IF EXISTS pgjs_accounts;
      CREATE TABLE pgjs_accounts (id int PRIMARY KEY, owner text NOT NULL, balance int NOT NULL);
      INSERT INTO pgjs_accounts SELECT g, 'owner' || g, 100 FROM generate_series(1, 50) g;
    `),
  );
});

afterAll(async () => {
  await Promise.all(opened.map((sql) => sql.end({ timeout: 5 })));
  await proxy.close();
  await withClient(directConfig(), (c) => c.query('DROP TABLE IF EXISTS pgjs_accounts'));
});

describe('postgres.js', () => {
  it('pipelines many queries on one connection and matches each reply to its query', async () => {
    const sql = client();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        i % 3 === 0
          ? sql`SELECT ${i}::int AS i, 'n' || ${i}::text AS s`
          : i % 3 === 1
            ? sql`SELECT owner AS s, ${i}::int AS i FROM pgjs_accounts WHERE id = ${(i % 50) + 1}`
            : sql.unsafe(`SELECT ${i} AS i, 'u${i}' AS s`),
      ),
    );
    results.forEach((rows, i) => {
      expect(rows).toHaveLength(1);
      expect(rows[0].i).toBe(i);
      const s = i % 3 === 0 ? `n${i}` : i % 3 === 1 ? `owner${(i % 50) + 1}` : `u${i}`;
      expect(rows[0].s).toBe(s);
    });
  });

  it('pipelines prepared and unprepared statements mixed, with errors in between', async () => {
    const sql = client();
    const outcomes = await within(
      Promise.allSettled(
        Array.from({ length: 60 }, (_, i) =>
          i % 10 === 5
            ? sql`SELECT 1/${0}::int AS boom`
            : i % 2 === 0
              ? sql`SELECT ${i}::int AS i`
              : sql.unsafe('SELECT $1::int AS i', [i], { prepare: false }),
        ),
      ),
      15_000,
      '60 pipelined queries',
    );
    outcomes.forEach((o, i) => {
      if (i % 10 === 5) {
        expect(o.status).toBe('rejected');
        expect((o as PromiseRejectedResult).reason.code).toBe('22012');
      } else {
        expect(o.status).toBe('fulfilled');
        expect((o as PromiseFulfilledResult<postgres.RowList<postgres.Row[]>>).value[0].i).toBe(i);
      }
    });
  });

  it('runs automatic prepared statements of 6 clients over a 2-connection transaction pool', async () => {
    const sqls = Array.from({ length: 6 }, () => client());
    await Promise.all(
      sqls.map(async (sql, k) => {
        for (let i = 0; i < 40; i++) {
          const id = ((k * 40 + i) % 50) + 1;
          const [row] = await sql`SELECT id, owner, ${k}::int AS k FROM pgjs_accounts WHERE id = ${id}`;
          expect(row).toEqual({ id, owner: `owner${id}`, k });
          const [mine] = await sql.unsafe(`SELECT $1::int * ${k + 1} AS v`, [i]);
          expect(mine.v).toBe(i * (k + 1));
        }
      }),
    );
  });

  it('commits a sql.begin transaction and rolls back one that throws', async () => {
    const sql = client();
    const other = client();
    const moved = await sql.begin(async (tx) => {
      await tx`UPDATE pgjs_accounts SET balance = balance - 10 WHERE id = 1`;
      await tx`UPDATE pgjs_accounts SET balance = balance + 10 WHERE id = 2`;
      const [{ balance }] = await other`SELECT balance FROM pgjs_accounts WHERE id = 1`;
      expect(balance).toBe(100);
      return tx`SELECT id, balance FROM pgjs_accounts WHERE id IN (1, 2) ORDER BY id`;
    });
    expect([...moved]).toEqual([
      { id: 1, balance: 90 },
      { id: 2, balance: 110 },
    ]);

    const failure = await sql
      .begin(async (tx) => {
        await tx`UPDATE pgjs_accounts SET balance = 0 WHERE id = 3`;
        throw new Error('changed my mind');
      })
      .catch((e: Error) => e);
    expect((failure as Error).message).toBe('changed my mind');
    const [{ balance }] = await other`SELECT balance FROM pgjs_accounts WHERE id = 3`;
    expect(balance).toBe(100);
  });

  it('runs concurrent sql.begin transactions of 8 clients on 2 server connections without lost updates', async () => {
    const sqls = Array.from({ length: 8 }, () => client());
    await Promise.all(
      sqls.map(async (sql) => {
        for (let i = 0; i < 10; i++) {
          await sql.begin(async (tx) => {
            const [{ balance }] = await tx`SELECT balance FROM pgjs_accounts WHERE id = 50 FOR UPDATE`;
            await tx`UPDATE pgjs_accounts SET balance = ${balance + 1} WHERE id = 50`;
          });
        }
      }),
    );
    const [{ balance }] = await client()`SELECT balance FROM pgjs_accounts WHERE id = 50`;
    expect(balance).toBe(180);
  });

  it('uses savepoints inside sql.begin', async () => {
    const sql = client();
    await sql.begin(async (tx) => {
      await tx`UPDATE pgjs_accounts SET owner = 'kept' WHERE id = 10`;
      await tx
        .savepoint(async (sp) => {
          await sp`UPDATE pgjs_accounts SET owner = 'dropped' WHERE id = 11`;
          throw new Error('undo the savepoint');
        })
        .catch(() => {});
    });
    const rows = await sql`SELECT id, owner FROM pgjs_accounts WHERE id IN (10, 11) ORDER BY id`;
    expect([...rows]).toEqual([
      { id: 10, owner: 'kept' },
      { id: 11, owner: 'owner11' },
    ]);
  });

  it('streams rows with a cursor', async () => {
    const sql = client();
    const seen: number[] = [];
    await sql`SELECT g FROM generate_series(1, 2500) g`.cursor(500, (rows) => {
      seen.push(...rows.map((r) => r.g as number));
    });
    expect(seen).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });
});
