// A failed transaction block on a sharded database, as drivers end it: answered as one PostgreSQL answers.
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import {
  bind,
  describe as describeMessage,
  execute,
  parse,
  query,
  RawConnection,
  sync,
} from './helpers/raw-client.js';
import { createAppDatabase, shardedDatabasesYaml, withRawPair } from './sharding-helpers.js';

let cluster: Cluster;
let proxy: TestProxy;

beforeAll(async () => {
  cluster = await startCluster({ shards: 2, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  const sharding = { tables: { accounts: 'id' }, coordinator: 'off' };
  proxy = await startTestProxy({ databasesYaml: shardedDatabasesYaml({ cluster, sharding }) });
  const c = await connect(proxy.client());
  await c.query('CREATE TABLE accounts (id int PRIMARY KEY, owner text)');
  await c.end();
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await cluster?.stop();
});

it('lets postgres.js roll back a block whose statement failed, and keeps the connection usable', async () => {
  const sql = postgres(proxy.url(), { max: 1, onnotice: () => {} });
  try {
    const duplicate = await sql
      .begin(async (tx) => {
        await tx`INSERT INTO accounts (id, owner) VALUES (${1}, 'a')`;
        await tx`INSERT INTO accounts (id, owner) VALUES (${1}, 'a')`;
      })
      .catch((e: { code: string }) => e);
    expect(duplicate).toMatchObject({ code: '23505' });
    const [{ count }] = await sql`SELECT count(*) FROM accounts`;
    expect(count).toBe('0');
    const division = await sql
      .begin(async (tx) => {
        await tx`SELECT 1 / ${0}::int`;
      })
      .catch((e: { code: string }) => e);
    expect(division).toMatchObject({ code: '22012' });
    await sql.begin(async (tx) => {
      await tx`INSERT INTO accounts (id, owner) VALUES (${2}, 'b')`;
    });
    expect(await sql`SELECT owner FROM accounts WHERE id = ${2}`).toEqual([{ owner: 'b' }]);
  } finally {
    await sql.end();
  }
});

/** The replies to a failed block's statements, message types and SQLSTATEs, from one server or the proxy. */
async function failedBlockReplies(conn: RawConnection): Promise<string[]> {
  const replies: string[] = [];
  const round = async (...messages: Buffer[]) => {
    conn.write(Buffer.concat(messages));
    const got = await conn.untilReady(10_000);
    replies.push(got.map((m) => (m.type === 'E' ? `E:${sqlstate(m.body)}` : m.type)).join(' '));
  };
  await round(query('BEGIN'));
  await round(query('SELECT 1 / 0'));
  // Describe of a ROLLBACK in a failed block is answered (it has no result columns); of a SELECT, refused.
  await round(parse('', 'ROLLBACK'), describeMessage('S', ''), sync);
  await round(parse('', 'SELECT 1'), describeMessage('S', ''), sync);
  await round(parse('', 'ROLLBACK'), describeMessage('S', ''), bind('', ''), execute(), sync);
  await round(query('SELECT 2'));
  return replies;
}

function sqlstate(body: Buffer): string {
  const at = body.indexOf('\0C');
  return body.subarray(at + 2, body.indexOf(0, at + 2)).toString();
}

it('answers Describe in a failed block as PostgreSQL does', async () => {
  await withRawPair(cluster, proxy, 'app', async (direct, viaProxy) => {
    const expected = await failedBlockReplies(direct);
    expect(expected[2]).toBe('1 t n Z');
    expect(await failedBlockReplies(viaProxy)).toEqual(expected);
  });
});
