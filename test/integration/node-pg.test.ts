// node-postgres through the transaction pool: queries, prepared statements, transactions, errors, cursors, types.
import pg from 'pg';
import Cursor from 'pg-cursor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect, rejection, withClient } from './helpers/tools.js';

let proxy: TestProxy;

beforeAll(async () => {
  proxy = await startTestProxy({ poolSize: 2 });
  await withClient(directConfig(), (c) =>
    c.query(`
      DROP TABLE IF EXISTS nodepg_items;
      CREATE TABLE nodepg_items (id serial PRIMARY KEY, name text UNIQUE NOT NULL, qty int);
      INSERT INTO nodepg_items (name, qty) SELECT 'item' || g, g FROM generate_series(1, 100) g;
    `),
  );
});

afterAll(async () => {
  await proxy.close();
  await withClient(directConfig(), (c) => c.query('DROP TABLE IF EXISTS nodepg_items'));
});

describe('simple and parameterised queries', () => {
  it('answers a simple query', async () => {
    await withClient(proxy.client(), async (c) => {
      const r = await c.query("SELECT 1 + 1 AS two, current_database() AS db, 'x' || 'y' AS s");
      expect(r.rows).toEqual([{ two: 2, db: 'app', s: 'xy' }]);
      expect(r.command).toBe('SELECT');
      expect(r.fields.map((f) => f.name)).toEqual(['two', 'db', 's']);
    });
  });

  it('returns one result per statement of a multi-statement simple query', async () => {
    await withClient(proxy.client(), async (c) => {
      const results = (await c.query(
        'SELECT 1 AS a; SELECT 2 AS b; SELECT 3 AS c',
      )) as unknown as pg.QueryResult[];
      expect(results.map((r) => r.rows)).toEqual([[{ a: 1 }], [{ b: 2 }], [{ c: 3 }]]);
    });
  });

  it('runs RESET ALL and DISCARD ALL on the server, with their own command tags', async () => {
    await withClient(proxy.client(), async (c) => {
      await c.query("SET work_mem = '7MB'");
      expect((await c.query('SHOW work_mem')).rows).toEqual([{ work_mem: '7MB' }]);
      const reset = await c.query('RESET ALL');
      expect(reset.command).toBe('RESET');
      expect((await c.query('SHOW work_mem')).rows).toEqual([{ work_mem: '4MB' }]);
      await c.query("SET work_mem = '9MB'");
      expect((await c.query('DISCARD ALL')).command).toBe('DISCARD');
      expect((await c.query('SHOW work_mem')).rows).toEqual([{ work_mem: '4MB' }]);
    });
  });

  it('binds parameters of the extended protocol', async () => {
    await withClient(proxy.client(), async (c) => {
      const r = await c.query('SELECT $1::int + $2::int AS sum, $3::text AS t, $4::text IS NULL AS isnull', [
        40,
        2,
        "it's",
        null,
      ]);
      expect(r.rows).toEqual([{ sum: 42, t: "it's", isnull: true }]);
      const many = await c.query('SELECT id, name FROM nodepg_items WHERE id = ANY($1) ORDER BY id', [
        [3, 5, 8],
      ]);
      expect(many.rows).toEqual([
        { id: 3, name: 'item3' },
        { id: 5, name: 'item5' },
        { id: 8, name: 'item8' },
      ]);
    });
  });

  it('answers an empty query like PostgreSQL', async () => {
    await withClient(proxy.client(), async (c) => {
      const r = await c.query('');
      expect(r.rows).toEqual([]);
      expect((await c.query('SELECT 7 AS n')).rows).toEqual([{ n: 7 }]);
    });
  });
});

describe('named prepared statements', () => {
  it('keeps 10 clients x 50 executions of one statement name with different SQL apart over 2 server connections', async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => connect(proxy.client())));
    const pids = new Set<number>();
    try {
      await Promise.all(
        clients.map(async (c, k) => {
          const text = `SELECT $1::int * ${k + 1} AS v, ${k} AS client, pg_backend_pid() AS pid`;
          for (let i = 0; i < 50; i++) {
            const r = await c.query({ name: 'shared_name', text, values: [i] });
            expect(r.rows[0].v).toBe(i * (k + 1));
            expect(r.rows[0].client).toBe(k);
            pids.add(r.rows[0].pid);
          }
        }),
      );
      expect(pids.size).toBe(2);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('shares one statement text among clients and still runs it on whichever connection they get', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => connect(proxy.client())));
    try {
      await Promise.all(
        clients.map(async (c, k) => {
          for (let i = 1; i <= 30; i++) {
            const r = await c.query({
              name: `by_id_${k % 2}`,
              text: 'SELECT name, qty FROM nodepg_items WHERE id = $1',
              values: [i],
            });
            expect(r.rows).toEqual([{ name: `item${i}`, qty: i }]);
          }
        }),
      );
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('reports a statement that fails to prepare, and the name can be prepared again afterwards', async () => {
    await withClient(proxy.client(), async (c) => {
      const err = await rejection(c.query({ name: 'broken', text: 'SELEC 1', values: [] }));
      expect(err.code).toBe('42601');
      const r = await c.query({ name: 'broken_fixed', text: 'SELECT $1::int AS v', values: [5] });
      expect(r.rows).toEqual([{ v: 5 }]);
    });
  });

  it("survives another client's DEALLOCATE ALL on the shared server connection", async () => {
    const single = await startTestProxy({ poolSize: 1 });
    try {
      await withClient(single.client(), async (a) => {
        const stmt = { name: 'dealloc_victim', text: 'SELECT $1::int + 1 AS v', values: [1] };
        expect((await a.query(stmt)).rows).toEqual([{ v: 2 }]);
        await withClient(single.client(), (b) => b.query('DEALLOCATE ALL'));
        expect((await a.query(stmt)).rows).toEqual([{ v: 2 }]);
      });
    } finally {
      await single.close();
    }
  });

  it("survives another client's DISCARD ALL on the shared server connection", async () => {
    const single = await startTestProxy({ poolSize: 1 });
    try {
      await withClient(single.client(), async (a) => {
        const stmt = { name: 'discard_victim', text: 'SELECT $1::int + 2 AS v', values: [1] };
        expect((await a.query(stmt)).rows).toEqual([{ v: 3 }]);
        await withClient(single.client(), (b) => b.query('DISCARD ALL'));
        expect((await a.query(stmt)).rows).toEqual([{ v: 3 }]);
      });
    } finally {
      await single.close();
    }
  });
});

describe('transactions', () => {
  it('makes committed rows visible to other clients and rolled-back rows not', async () => {
    await withClient(proxy.client(), async (a) => {
      await withClient(proxy.client(), async (b) => {
        await a.query('BEGIN');
        await a.query("INSERT INTO nodepg_items (name, qty) VALUES ('committed', 1)");
        expect(
          (await b.query("SELECT count(*)::int AS n FROM nodepg_items WHERE name = 'committed'")).rows,
        ).toEqual([{ n: 0 }]);
        await a.query('COMMIT');
        expect(
          (await b.query("SELECT count(*)::int AS n FROM nodepg_items WHERE name = 'committed'")).rows,
        ).toEqual([{ n: 1 }]);

        await a.query('BEGIN');
        await a.query("INSERT INTO nodepg_items (name, qty) VALUES ('rolled_back', 1)");
        expect(
          (await a.query("SELECT count(*)::int AS n FROM nodepg_items WHERE name = 'rolled_back'")).rows,
        ).toEqual([{ n: 1 }]);
        await a.query('ROLLBACK');
        expect(
          (await b.query("SELECT count(*)::int AS n FROM nodepg_items WHERE name = 'rolled_back'")).rows,
        ).toEqual([{ n: 0 }]);
      });
    });
  });

  it('keeps one server connection for a whole transaction while other clients run', async () => {
    await withClient(proxy.client(), async (a) => {
      await a.query('BEGIN');
      const first = (await a.query('SELECT pg_backend_pid() AS pid, txid_current() AS xid')).rows[0];
      await Promise.all(
        Array.from({ length: 5 }, () =>
          withClient(proxy.client(), (o) => o.query('SELECT pg_backend_pid()')),
        ),
      );
      for (let i = 0; i < 5; i++) {
        const again = (await a.query('SELECT pg_backend_pid() AS pid, txid_current() AS xid')).rows[0];
        expect(again).toEqual(first);
      }
      await a.query('COMMIT');
    });
  });

  it('reports the failed-transaction state and recovers with ROLLBACK', async () => {
    await withClient(proxy.client(), async (c) => {
      await c.query('BEGIN');
      expect((await rejection(c.query('SELECT 1/0'))).code).toBe('22012');
      expect((await rejection(c.query('SELECT 1'))).code).toBe('25P02');
      await c.query('ROLLBACK');
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
  });

  it('rolls back to a savepoint', async () => {
    await withClient(proxy.client(), async (c) => {
      await c.query('BEGIN');
      await c.query("INSERT INTO nodepg_items (name, qty) VALUES ('sp_kept', 1)");
      await c.query('SAVEPOINT s');
      await c.query("INSERT INTO nodepg_items (name, qty) VALUES ('sp_dropped', 1)");
      await c.query('ROLLBACK TO SAVEPOINT s');
      await c.query('COMMIT');
      const r = await c.query("SELECT name FROM nodepg_items WHERE name LIKE 'sp_%' ORDER BY name");
      expect(r.rows).toEqual([{ name: 'sp_kept' }]);
    });
  });
});

describe('errors', () => {
  it('reports a syntax error with 42601 and keeps the connection usable', async () => {
    await withClient(proxy.client(), async (c) => {
      const err = await rejection(c.query('SELEC 1'));
      expect(err.code).toBe('42601');
      expect(err.message).toContain('syntax error at or near "SELEC"');
      expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
      const perr = await rejection(c.query('SELECT $1::int FROM', [1]));
      expect(perr.code).toBe('42601');
      expect((await c.query('SELECT $1::int AS v', [3])).rows).toEqual([{ v: 3 }]);
    });
  });

  it('reports a unique violation with 23505, the constraint and the detail', async () => {
    await withClient(proxy.client(), async (c) => {
      const err = (await rejection(
        c.query('INSERT INTO nodepg_items (name, qty) VALUES ($1, $2)', ['item1', 1]),
      )) as pg.DatabaseError;
      expect(err.code).toBe('23505');
      expect(err.constraint).toBe('nodepg_items_name_key');
      expect(err.detail).toBe('Key (name)=(item1) already exists.');
      expect(
        (await c.query('SELECT count(*)::int AS n FROM nodepg_items WHERE name = $1', ['item1'])).rows,
      ).toEqual([{ n: 1 }]);
    });
  });

  it('passes notices through', async () => {
    await withClient(proxy.client(), async (c) => {
      const notices: string[] = [];
      c.on('notice', (n) => notices.push(String(n.message)));
      await c.query("DO $$ BEGIN RAISE NOTICE 'first %', 1; RAISE WARNING 'second'; END $$");
      expect(notices).toEqual(['first 1', 'second']);
    });
  });
});

describe('cursors', () => {
  it('fetches from a DECLAREd cursor inside a transaction', async () => {
    await withClient(proxy.client(), async (c) => {
      await c.query('BEGIN');
      await c.query('DECLARE items_cur CURSOR FOR SELECT id FROM nodepg_items WHERE id <= 25 ORDER BY id');
      const seen: number[] = [];
      for (;;) {
        const r = await c.query('FETCH 10 FROM items_cur');
        if (r.rows.length === 0) break;
        seen.push(...r.rows.map((row) => row.id as number));
      }
      await c.query('CLOSE items_cur');
      await c.query('COMMIT');
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    });
  });

  it('reads a pg-cursor in batches outside an explicit transaction', async () => {
    await withClient(proxy.client(), async (c) => {
      const cursor = c.query(new Cursor('SELECT g FROM generate_series(1, 1000) g WHERE g > $1', [0]));
      const seen: number[] = [];
      for (;;) {
        const rows = await cursor.read(100);
        if (rows.length === 0) break;
        seen.push(...rows.map((r) => r.g as number));
      }
      await cursor.close();
      expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      expect((await c.query('SELECT 1 AS after')).rows).toEqual([{ after: 1 }]);
    });
  });

  it('reads two pg-cursors of different clients interleaved on a 2-connection pool', async () => {
    const [a, b] = await Promise.all([connect(proxy.client()), connect(proxy.client())]);
    try {
      const ca = a.query(new Cursor('SELECT g FROM generate_series(1, 300) g'));
      const cb = b.query(new Cursor("SELECT 'b' || g AS g FROM generate_series(1, 300) g"));
      const seenA: number[] = [];
      const seenB: string[] = [];
      for (let i = 0; i < 3; i++) {
        seenA.push(...(await ca.read(100)).map((r) => r.g as number));
        seenB.push(...(await cb.read(100)).map((r) => r.g as string));
      }
      await Promise.all([ca.close(), cb.close()]);
      expect(seenA).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect(seenB).toEqual(Array.from({ length: 300 }, (_, i) => `b${i + 1}`));
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });
});

describe('types', () => {
  const typeQuery = `SELECT
    $1::int2 AS i2, $2::int4 AS i4, $3::int8 AS i8, $4::numeric AS num, $5::float8 AS f8, $6::real AS f4,
    $7::text AS txt, $8::bytea AS bin, $9::bool AS b, $10::date AS d, $11::timestamptz AS ts,
    $12::json AS js, $13::jsonb AS jsb, $14::int[] AS arr, $15::text[] AS tarr, $16::uuid AS id,
    $17::interval AS iv, $18::text AS nul, $19::inet AS ip, $20::varchar(5) AS vc`;
  const values = [
    -32768,
    2147483647,
    '9223372036854775807',
    '12345678901234567890.000000000123',
    1.5e300,
    3.25,
    'ünïcödé ✓ \u{1F600} "quotes" \\ backslash \n newline',
    Buffer.from([0, 1, 2, 255, 254]),
    true,
    '2024-02-29',
    new Date('2024-05-06T07:08:09.123Z'),
    JSON.stringify({ a: [1, 2, { b: null }] }),
    { z: 1, a: 'two' },
    [1, null, 3],
    ['a', 'b c', 'd"e', null],
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '1 year 2 mons 3 days 04:05:06.789',
    null,
    '192.168.0.1/24',
    'abc',
  ];

  it('round-trips values of many types exactly as PostgreSQL returns them', async () => {
    const direct = await withClient(directConfig(), (c) => c.query(typeQuery, values));
    const proxied = await withClient(proxy.client(), (c) => c.query(typeQuery, values));
    expect(proxied.rows).toEqual(direct.rows);
    expect(proxied.fields.map((f) => [f.name, f.dataTypeID])).toEqual(
      direct.fields.map((f) => [f.name, f.dataTypeID]),
    );
    expect(proxied.rows[0].bin).toEqual(Buffer.from([0, 1, 2, 255, 254]));
    expect(proxied.rows[0].i8).toBe('9223372036854775807');
    expect(proxied.rows[0].txt).toBe(values[6]);
  });

  it('returns binary-format results like PostgreSQL', async () => {
    const q = {
      text: 'SELECT $1::int4 AS i, $2::text AS t, $3::float8 AS f',
      values: [7, 'bin', 2.5],
      binary: true,
    };
    const direct = await withClient(directConfig(), (c) => c.query(q));
    const proxied = await withClient(proxy.client(), (c) => c.query(q));
    expect(proxied.rows).toEqual(direct.rows);
  });

  it('returns a large value split across many network reads intact', async () => {
    await withClient(proxy.client(), async (c) => {
      const r = await c.query(
        "SELECT repeat('abcdefghij', 500000) AS big, md5(repeat('abcdefghij', 500000)) AS sum",
      );
      expect(r.rows[0].big).toHaveLength(5_000_000);
      const sent = 'z'.repeat(3_000_000);
      const back = await c.query('SELECT length($1::text) AS n, md5($1::text) AS sum', [sent]);
      expect(back.rows[0].n).toBe(3_000_000);
    });
  });
});
