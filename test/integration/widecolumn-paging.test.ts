// The wide-column plugin pages a large Cassandra partition: cursors and Execute row limits as on PostgreSQL, pages read on demand.
import cassandra from 'cassandra-driver';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Frontend } from '../../src/protocol/codes.js';
import { MessageWriter } from '../../src/protocol/writer.js';
import { startCassandra, type CassandraServer } from '../../src/sandbox/cassandra.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { RawConnection, type BackendMessage } from './helpers/raw-client.js';

const rowCount = 10_000;
const pageSize = 500;

let server: CassandraServer;
let direct: cassandra.Client;
let proxy: TestProxy;
let reference: pg.Client;
let client: pg.Client;

beforeAll(async () => {
  server = await startCassandra({ maxHeap: '512m' });
  direct = new cassandra.Client({ contactPoints: [server.contactPoint], localDataCenter: server.dataCenter });
  await direct.execute(
    "CREATE KEYSPACE feed WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
  );
  await direct.execute('CREATE TABLE feed.events (app text, seq int, line text, PRIMARY KEY (app, seq))');
  const lines = Array.from({ length: rowCount }, (_, seq) => ['big', seq, `line ${seq}`]);
  await cassandra.concurrent.executeConcurrent(
    direct,
    'INSERT INTO feed.events (app, seq, line) VALUES (?, ?, ?)',
    lines,
    { concurrencyLevel: 32 },
  );
  const admin = new pg.Client(directConfig('app'));
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS widecolumn_paging_reference');
  await admin.query('CREATE DATABASE widecolumn_paging_reference');
  await admin.end();
  reference = new pg.Client(directConfig('widecolumn_paging_reference'));
  await reference.connect();
  await reference.query('CREATE SCHEMA wide');
  await reference.query('CREATE TABLE wide.events (app text, seq int, line text, PRIMARY KEY (app, seq))');
  await reference.query(
    `INSERT INTO wide.events SELECT 'big', s, 'line ' || s FROM generate_series(0, ${rowCount - 1}) s`,
  );
  proxy = await startTestProxy({
    pluginsYaml: [
      '  widecolumn:',
      `    contact_points: [${JSON.stringify(server.contactPoint)}]`,
      `    local_datacenter: ${server.dataCenter}`,
      '    keyspace: feed',
      '    schema: wide',
      '    read_consistency: one',
      `    page_size: ${pageSize}`,
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

/** Pages read from Cassandra so far, from the proxy's metrics. */
async function pagesRead(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proxy.adminPort}/metrics`)).text();
  const match = /^polyproxy_plugin_widecolumn_pages_total (\d+)/m.exec(text);
  return Number(match?.[1] ?? 0);
}

/** Every row through a cursor, `size` at a time, and the size of each batch. */
async function throughCursor(on: pg.Client, sql: string, size: number, params: unknown[] = []) {
  const cursor = on.query(new Cursor(sql, params, { rowMode: 'array' }));
  const rows: unknown[][] = [];
  const batches: number[] = [];
  for (let batch = await cursor.read(size); batch.length; batch = await cursor.read(size)) {
    batches.push(batch.length);
    rows.push(...(batch as unknown[][]));
  }
  await cursor.close();
  return { rows, batches };
}

const sync = Buffer.from([Frontend.Sync, 0, 0, 0, 4]);
const flush = Buffer.from([Frontend.Flush, 0, 0, 0, 4]);

/** Parse, Bind, then Executes of `maxRows` until the portal completes, then Sync: the rows, suspensions and tags. */
async function limitedRun(conn: RawConnection, sql: string, maxRows: number): Promise<[string, string][]> {
  const parse = new MessageWriter(Frontend.Parse).cstring('').cstring(sql).int16(0).finish();
  const bind = new MessageWriter(Frontend.Bind).cstring('').cstring('').int16(0).int16(0).int16(0).finish();
  const execute = new MessageWriter(Frontend.Execute).cstring('').int32(maxRows).finish();
  const seen: [string, string][] = [];
  conn.write(Buffer.concat([parse, bind, execute, flush]));
  for (let executes = 1; executes <= 100;) {
    const m: BackendMessage | null = await conn.next();
    if (!m) throw new Error('connection closed');
    if (m.type === 'D' || m.type === 's' || m.type === 'C' || m.type === 'E')
      seen.push([m.type, m.type === 'D' ? m.body.toString('hex') : m.body.toString('utf8')]);
    if (m.type === 'C' || m.type === 'E') break;
    if (m.type === 's') {
      conn.write(Buffer.concat([execute, flush]));
      executes++;
    }
  }
  conn.write(sync);
  await conn.untilReady();
  return seen;
}

describe('paging a large partition', () => {
  const sql = "SELECT seq, line FROM wide.events WHERE app = 'big' ORDER BY seq";

  it(`reads ${rowCount} rows through a cursor as PostgreSQL returns them, a page of ${pageSize} at a time`, async () => {
    const before = await pagesRead();
    const through = await throughCursor(client, sql, 1000);
    const expected = await throughCursor(reference, sql, 1000);
    expect(through.rows).toHaveLength(rowCount);
    expect(through).toEqual(expected);
    const pages = (await pagesRead()) - before;
    expect(pages).toBeGreaterThanOrEqual(rowCount / pageSize);
    expect(pages).toBeLessThanOrEqual(rowCount / pageSize + 1);
  });

  it(`holds no more than a page ahead of a cursor over all ${rowCount} rows`, async () => {
    const before = await pagesRead();
    const cursor = client.query(new Cursor(sql, [], { rowMode: 'array' }));
    let read = 0;
    const ahead: number[] = [];
    for (let batch = await cursor.read(300); batch.length; batch = await cursor.read(300)) {
      expect(batch[0]).toEqual([read, `line ${read}`]);
      read += batch.length;
      // Rows fetched from Cassandra beyond those the client has: never more than the page being sent.
      ahead.push((await pagesRead()) - before - Math.ceil(read / pageSize));
    }
    await cursor.close();
    expect(read).toBe(rowCount);
    expect(Math.max(...ahead)).toBeLessThanOrEqual(1);
    expect(Math.min(...ahead)).toBeGreaterThanOrEqual(0);
  });

  it('fetches only the pages a cursor reads (a closed cursor leaves the rest in Cassandra)', async () => {
    const before = await pagesRead();
    const cursor = client.query(new Cursor('SELECT seq FROM wide.events WHERE app = $1', ['big']));
    const first = await cursor.read(10);
    const more = await cursor.read(pageSize);
    await cursor.close();
    expect([first.length, more.length]).toEqual([10, pageSize]);
    expect((await pagesRead()) - before).toBe(2);
  });

  it('sends the whole result to a simple Query, page after page', async () => {
    const rows = await client.query({ text: sql, rowMode: 'array' });
    const expected = await reference.query({ text: sql, rowMode: 'array' });
    expect([rows.command, rows.rowCount]).toEqual(['SELECT', rowCount]);
    expect(rows.rows).toEqual(expected.rows);
  });

  it('suspends each Execute at its row limit, across pages, and ends with the count of the last one', async () => {
    const ctx = directConfig('widecolumn_paging_reference');
    const { conn: plain } = await RawConnection.login(ctx.port!, {
      user: ctx.user!,
      password: String(ctx.password),
      database: ctx.database!,
    });
    const { conn: through } = await RawConnection.login(proxy.port, {
      user: 'app',
      password: 'app-secret',
      database: 'app',
    });
    try {
      const limited = `${sql} LIMIT 1100`;
      // 1100 rows in runs of 300 (ends with 200), of 550 (the limit meets the last row) and of 5000 (no suspension).
      for (const maxRows of [300, 550, 5000]) {
        const expected = await limitedRun(plain, limited, maxRows);
        expect(expected.filter(([t]) => t === 's')).toHaveLength(
          maxRows === 300 ? 3 : maxRows === 550 ? 2 : 0,
        );
        expect(await limitedRun(through, limited, maxRows)).toEqual(expected);
      }
    } finally {
      plain.socket.destroy();
      through.socket.destroy();
    }
  });
});
