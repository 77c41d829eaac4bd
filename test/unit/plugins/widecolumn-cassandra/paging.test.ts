// The widecolumn plugin reads a large result a page at a time: each page from the paging state the one before ended with.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Row } from '../../../../src/plugins/api.js';
import { Catalog } from '../../../../src/plugins/builtin/widecolumn-cassandra/catalog.js';
import {
  WidecolumnHandler,
  type CqlPage,
  type CqlRunner,
} from '../../../../src/plugins/builtin/widecolumn-cassandra/handler.js';
import type { CqlStatement } from '../../../../src/plugins/builtin/widecolumn-cassandra/plans.js';
import { loadParser } from '../../../../src/sql/parser.js';
import { statement } from '../documents-mongodb/statement.js';

const logs = [
  ['app', 'partition_key', 0, 'none', 'text'],
  ['seq', 'clustering', 0, 'asc', 'int'],
  ['line', 'regular', -1, 'none', 'text'],
];

/** Serves fixed pages; page i's paging state is `p<i+1>`; an empty page may sit before the end, as Cassandra may send. */
class PagedRunner implements CqlRunner {
  readonly asked: (string | undefined)[] = [];
  failAt = -1;
  constructor(private readonly pages: unknown[][][]) {}
  rows(): Promise<unknown[][]> {
    return Promise.reject(new Error('reads go through page()'));
  }
  page(_s: CqlStatement, _c: string, pageState?: string): Promise<CqlPage> {
    this.asked.push(pageState);
    const at = pageState === undefined ? 0 : Number(pageState.slice(1));
    if (at === this.failAt) return Promise.reject(new Error('node went away'));
    const last = at === this.pages.length - 1;
    return Promise.resolve({ rows: this.pages[at], ...(!last && { pageState: `p${at + 1}` }) });
  }
  batch(): Promise<void> {
    return Promise.resolve();
  }
}

function handlerOn(runner: PagedRunner): WidecolumnHandler {
  const catalog = new Catalog(() => Promise.resolve(logs), 'shop', 'wide', 60_000, new Set());
  return new WidecolumnHandler(runner, catalog, 'wide', { read: 'one', write: 'one' });
}

const sql = "SELECT seq, line FROM wide.logs WHERE app = 'a'";
const page = (from: number, n: number) => Array.from({ length: n }, (_, i) => [from + i, `line ${from + i}`]);

beforeAll(async () => {
  await loadParser();
});

describe('paged reads', () => {
  it('answers the first page and fetches each next one only when asked, skipping empty pages', async () => {
    const runner = new PagedRunner([page(0, 3), page(3, 3), [], page(6, 1)]);
    const result = await handlerOn(runner).execute(statement(sql));
    expect(result.rows).toEqual(page(0, 3).map(([n, line]) => [String(n), line]));
    expect(runner.asked).toEqual([undefined]);
    const more: Row[][] = [];
    for (let rows = await result.more!.next(); rows; rows = await result.more!.next()) more.push([...rows]);
    expect(more.map((rows) => rows.map((r) => r[0]))).toEqual([['3', '4', '5'], ['6']]);
    expect(runner.asked).toEqual([undefined, 'p1', 'p2', 'p3']);
    expect(await result.more!.next()).toBeNull();
  });

  it('returns a one-page result whole, with its count', async () => {
    const result = await handlerOn(new PagedRunner([page(0, 2)])).execute(statement(sql));
    expect([result.rows.length, result.command, result.more]).toEqual([2, 'SELECT 2', undefined]);
  });

  it('reports a failing later page as the plugin error the client gets', async () => {
    const runner = new PagedRunner([page(0, 3), page(3, 3)]);
    runner.failAt = 1;
    const result = await handlerOn(runner).execute(statement(sql));
    await expect(result.more!.next()).rejects.toMatchObject({ sqlstate: 'XX000' });
  });
});
