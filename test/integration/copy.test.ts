// COPY FROM STDIN and COPY TO STDOUT through the proxy with pg-copy-streams: bulk data in and out unchanged.
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect, rejection, withClient } from './helpers/tools.js';

let proxy: TestProxy;
const rowCount = 100_000;

/** The tab-separated text of row i, with a few characters COPY must escape. */
const line = (i: number) => `${i}\tname ${i} ü\\\\x\t${i % 7 === 0 ? '\\N' : (i * 1.5).toFixed(1)}\n`;

function* rows(n: number): Generator<string> {
  let batch = '';
  for (let i = 1; i <= n; i++) {
    batch += line(i);
    if (i % 1000 === 0) {
      yield batch;
      batch = '';
    }
  }
  if (batch) yield batch;
}

/** Collects a readable stream into a hash and a byte count. */
function digest(): { sink: Writable; result: () => { sha: string; bytes: number } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done();
    },
  });
  return { sink, result: () => ({ sha: hash.digest('hex'), bytes }) };
}

function expectedDigest(n: number): { sha: string; bytes: number } {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const chunk of rows(n)) {
    hash.update(chunk);
    bytes += Buffer.byteLength(chunk);
  }
  return { sha: hash.digest('hex'), bytes };
}

beforeAll(async () => {
  proxy = await startTestProxy({ poolSize: 2 });
  await withClient(directConfig(), (c) =>
    c.query(`
      DROP TABLE IF EXISTS copy_rows;
      CREATE TABLE copy_rows (id int PRIMARY KEY, name text, amount numeric);
    `),
  );
});

afterAll(async () => {
  await proxy.close();
  await withClient(directConfig(), (c) => c.query('DROP TABLE IF EXISTS copy_rows'));
});

describe('COPY', () => {
  it('copies 100k rows in with COPY FROM STDIN and the same bytes out with COPY TO STDOUT', async () => {
    await withClient(proxy.client(), async (c) => {
      const ingest = c.query(copyFrom('COPY copy_rows (id, name, amount) FROM STDIN'));
      await pipeline(Readable.from(rows(rowCount)), ingest);
      expect(ingest.rowCount).toBe(rowCount);

      const { sink, result } = digest();
      const out = c.query(copyTo('COPY (SELECT id, name, amount FROM copy_rows ORDER BY id) TO STDOUT'));
      await pipeline(out, sink);
      expect(result()).toEqual(expectedDigest(rowCount));
      expect(out.rowCount).toBe(rowCount);
    });
    const direct = await withClient(directConfig(), (c) =>
      c.query(
        'SELECT count(*)::int AS n, sum(id)::bigint AS s, count(*) FILTER (WHERE amount IS NULL)::int AS nulls FROM copy_rows',
      ),
    );
    expect(direct.rows).toEqual([
      { n: rowCount, s: String((rowCount * (rowCount + 1)) / 2), nulls: Math.floor(rowCount / 7) },
    ]);
  });

  it('copies out in binary and CSV formats exactly as PostgreSQL does', async () => {
    for (const format of ['binary', 'csv, header true']) {
      const sql = `COPY (SELECT * FROM copy_rows WHERE id <= 5000 ORDER BY id) TO STDOUT (FORMAT ${format})`;
      const direct = digest();
      await withClient(directConfig(), (c) => pipeline(c.query(copyTo(sql)), direct.sink));
      const proxied = digest();
      await withClient(proxy.client(), (c) => pipeline(c.query(copyTo(sql)), proxied.sink));
      expect(proxied.result()).toEqual(direct.result());
    }
  });

  it('reports bad COPY input with its SQLSTATE, rolls the COPY back and keeps the connection usable', async () => {
    await withClient(proxy.client(), async (c) => {
      const ingest = c.query(copyFrom('COPY copy_rows (id, name, amount) FROM STDIN'));
      const done = pipeline(
        Readable.from([`${rowCount + 1}\tok\t1\n`, `${rowCount + 2}\tbad\tnot-a-number\n`]),
        ingest,
      );
      const err = await rejection(done);
      expect(err.code).toBe('22P02');
      const r = await c.query('SELECT count(*)::int AS n FROM copy_rows WHERE id > $1', [rowCount]);
      expect(r.rows).toEqual([{ n: 0 }]);
    });
  });

  it('aborts a COPY the client fails with CopyFail and keeps the connection usable', async () => {
    await withClient(proxy.client(), async (c) => {
      const ingest = c.query(copyFrom('COPY copy_rows (id, name, amount) FROM STDIN'));
      const failed = new Promise<Error>((resolve) => ingest.on('error', resolve));
      ingest.write(`${rowCount + 10}\tnever\t1\n`);
      ingest.destroy(new Error('client gave up'));
      const err = (await failed) as Error & { code?: string };
      expect(err.message).toContain('client gave up');
      const r = await c.query('SELECT count(*)::int AS n FROM copy_rows WHERE id > $1', [rowCount]);
      expect(r.rows).toEqual([{ n: 0 }]);
    });
  });

  it('runs COPY of several clients at once over a 2-connection pool while others query', async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => connect(proxy.client())));
    try {
      const copies = clients.map(async (c, k) => {
        const { sink, result } = digest();
        await pipeline(
          c.query(copyTo(`COPY (SELECT g, ${k} FROM generate_series(1, 20000) g) TO STDOUT`)),
          sink,
        );
        const hash = createHash('sha256');
        let text = '';
        for (let g = 1; g <= 20000; g++) text += `${g}\t${k}\n`;
        hash.update(text);
        expect(result()).toEqual({ sha: hash.digest('hex'), bytes: Buffer.byteLength(text) });
      });
      const queries = withClient(proxy.client(), async (q) => {
        for (let i = 0; i < 20; i++)
          expect((await q.query('SELECT $1::int AS i', [i])).rows).toEqual([{ i }]);
      });
      await Promise.all([...copies, queries]);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});
