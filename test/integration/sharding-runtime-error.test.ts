// A statement over several shards that fails while it runs: the client gets PostgreSQL's RowDescription before
// the error, as from one plain PostgreSQL holding the same rows (simple and extended protocol, node-postgres too).
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bind,
  describe as describeMessage,
  errorFields,
  execute,
  parse,
  query,
  sync,
  types,
  type BackendMessage,
  type RawConnection,
} from './helpers/raw-client.js';
import { connect } from './helpers/tools.js';
import { shardClient, startShardedRig, withRawPair, type ShardedRig } from './sharding-helpers.js';

let rig: ShardedRig;
let plain: pg.Client;
/** k = 5 divides by zero in 1/(k - 5); every shard holds some of the 30 rows. */
const rows = Array.from({ length: 30 }, (_, i) => i + 1);

beforeAll(async () => {
  rig = await startShardedRig({ sharding: { tables: { t: 'k' }, coordinator: 'off' } });
  await rig.cluster.shards[0].primary.psql('CREATE DATABASE plain');
  plain = await connect({ ...shardClient(rig.cluster, 0), database: 'plain' });
  const values = rows.map((k) => `(${k}, ${k % 4})`).join(', ');
  for (const c of [rig.sharded, plain]) {
    await c.query('CREATE TABLE t (k int PRIMARY KEY, g int)');
    await c.query(`INSERT INTO t VALUES ${values}`);
  }
}, 120_000);

afterAll(async () => {
  await plain?.end();
  await rig?.stop();
});

/** The reply's message types without its DataRows: how many rows came before the error depends on row order. */
const shape = (reply: BackendMessage[]) => types(reply).replace(/D/g, '');

/** Each column of the reply's RowDescription but its table's OID (the same table has another OID in each database). */
function rowDescription(reply: BackendMessage[]): string[] | undefined {
  const body = reply.find((m) => m.type === 'T')?.body;
  if (!body) return undefined;
  const columns: string[] = [];
  for (let i = 0, at = 2; i < body.readInt16BE(0); i++) {
    const end = body.indexOf(0, at);
    const name = body.toString('utf8', at, end);
    const [attnum, type, size, typmod, format] = [
      body.readInt16BE(end + 5),
      body.readInt32BE(end + 7),
      body.readInt16BE(end + 11),
      body.readInt32BE(end + 13),
      body.readInt16BE(end + 17),
    ];
    columns.push(`${name} attnum=${attnum} type=${type}/${size}/${typmod} format=${format}`);
    at = end + 19;
  }
  return columns;
}
const sqlstate = (reply: BackendMessage[]) => {
  const error = reply.find((m) => m.type === 'E');
  return error && errorFields(error.body).code;
};

/** Sends the same messages to plain PostgreSQL and through the proxy; both replies up to ReadyForQuery. */
async function bothReplies(messages: Buffer[]): Promise<[BackendMessage[], BackendMessage[]]> {
  let replies: [BackendMessage[], BackendMessage[]] = [[], []];
  await withRawPair(
    rig.cluster,
    rig.proxy,
    'plain',
    async (direct: RawConnection, viaProxy: RawConnection) => {
      const send = async (c: RawConnection) => {
        for (const m of messages) c.write(m);
        return c.untilReady();
      };
      replies = [await send(direct), await send(viaProxy)];
    },
  );
  return replies;
}

const failing = [
  'SELECT 1/(k - 5) AS r FROM t',
  'SELECT k, 1/(k - 5) AS r FROM t ORDER BY k',
  'SELECT k, 1/(k - 5) AS r FROM t ORDER BY g, k LIMIT 3',
  'SELECT sum(1/(k - 5)) FROM t',
  'SELECT g, count(*), sum(10/(k - 5)) AS s FROM t GROUP BY g ORDER BY g',
  'SELECT DISTINCT 1/(k - 5) AS r FROM t',
];

describe('a statement over several shards failing at run time', () => {
  it.each(failing)(
    'sends the RowDescription PostgreSQL sends before the error (simple protocol): %s',
    async (sql) => {
      const [pgReply, proxyReply] = await bothReplies([query(sql)]);
      expect(shape(pgReply)).toBe('TEZ');
      expect(shape(proxyReply)).toBe(shape(pgReply));
      expect(rowDescription(proxyReply)).toEqual(rowDescription(pgReply));
      expect(sqlstate(proxyReply)).toBe('22012');
    },
  );

  it.each(failing)('sends it for a Describe of the portal (extended protocol): %s', async (sql) => {
    const round = [parse('', sql), bind('', ''), describeMessage('P', ''), execute(), sync];
    const [pgReply, proxyReply] = await bothReplies(round);
    expect(shape(pgReply)).toBe('12TEZ');
    expect(shape(proxyReply)).toBe(shape(pgReply));
    expect(rowDescription(proxyReply)).toEqual(rowDescription(pgReply));
    expect(sqlstate(proxyReply)).toBe('22012');
  });

  it('sends none without a Describe, as PostgreSQL', async () => {
    const round = [parse('', failing[0]), bind('', ''), execute(), sync];
    const [pgReply, proxyReply] = await bothReplies(round);
    expect(shape(pgReply)).toBe('12EZ');
    expect(shape(proxyReply)).toBe(shape(pgReply));
  });

  it('sends none for an error before the statement runs (a constant divided by zero is folded at planning)', async () => {
    const [pgReply, proxyReply] = await bothReplies([query('SELECT k, 1/0 AS r FROM t')]);
    expect(shape(pgReply)).toBe('EZ');
    expect(shape(proxyReply)).toBe('EZ');
  });

  it('fails the same in node-postgres, and the next statement runs', async () => {
    for (const c of [plain, rig.sharded]) {
      await expect(c.query(failing[0])).rejects.toMatchObject({ code: '22012' });
      await expect(c.query('SELECT $1::int / (k - 5) AS r FROM t', [1])).rejects.toMatchObject({
        code: '22012',
      });
      expect((await c.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 30 }]);
    }
  });
});

/**
 * Statements whose shards all succeed but whose merge fails in the proxy's own operators, as PostgreSQL fails
 * on the same rows while it runs: the cast of a merged aggregate (each shard's partial sum of k * 100 fits a
 * smallint, the total of 46,500 does not).
 */
const failingInProxy: [string, string][] = [
  ['SELECT sum(k * 100)::int2 AS s FROM t', '22003'],
  ['SELECT avg(k * 10000)::int2 AS a FROM t', '22003'],
  ['SELECT g, sum(k * 10000)::int2 AS s FROM t GROUP BY g ORDER BY g', '22003'],
];

describe('a statement over several shards failing in the proxy’s merge', () => {
  it.each(failingInProxy)(
    'sends the RowDescription PostgreSQL sends before the error (simple protocol): %s',
    async (sql, code) => {
      const [pgReply, proxyReply] = await bothReplies([query(sql)]);
      expect(shape(pgReply)).toBe('TEZ');
      expect(sqlstate(pgReply)).toBe(code);
      expect(shape(proxyReply)).toBe(shape(pgReply));
      expect(rowDescription(proxyReply)).toEqual(rowDescription(pgReply));
      expect(sqlstate(proxyReply)).toBe(code);
    },
  );

  it.each(failingInProxy)(
    'sends it for a Describe of the portal (extended protocol): %s',
    async (sql, code) => {
      const round = [parse('', sql), bind('', ''), describeMessage('P', ''), execute(), sync];
      const [pgReply, proxyReply] = await bothReplies(round);
      expect(shape(pgReply)).toBe('12TEZ');
      expect(shape(proxyReply)).toBe(shape(pgReply));
      expect(rowDescription(proxyReply)).toEqual(rowDescription(pgReply));
      expect(sqlstate(proxyReply)).toBe(code);
    },
  );
});
