// Pipelined rounds on a sharded database: many rounds sent without waiting, single-shard ones pipelined on
// their shard's connection, get exactly the replies of one plain PostgreSQL holding the same rows.
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import {
  bind,
  describe as describeMessage,
  errorFields,
  execute,
  parse,
  query,
  RawConnection,
  sync,
  type BackendMessage,
} from './helpers/raw-client.js';
import { withClient } from './helpers/tools.js';
import {
  createAppDatabase,
  keyOnShard,
  shardClient,
  shardedDatabasesYaml,
  withRawPair,
} from './sharding-helpers.js';

let cluster: Cluster;
let proxy: TestProxy;
/** Two keys on each of the three shards. */
const keys = [0, 1, 2].flatMap((s) => [keyOnShard(s, 1), keyOnShard(s, 100)]);
const [a0, a1, b0, b1, c0] = keys;

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  await cluster.shards[0].primary.psql('CREATE DATABASE plain');
  const sharding = { tables: { items: 'id' }, coordinator: 'off' };
  proxy = await startTestProxy({ databasesYaml: shardedDatabasesYaml({ cluster, sharding, poolSize: 2 }) });
  const fill = async (c: { query(sql: string, values?: unknown[]): Promise<unknown> }) => {
    await c.query('CREATE TABLE items (id int PRIMARY KEY, v int)');
    for (const k of keys) await c.query('INSERT INTO items VALUES ($1, $2)', [k, k % 7]);
  };
  await withClient(proxy.client(), fill);
  await withClient({ ...shardClient(cluster, 0), database: 'plain' }, fill);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await cluster?.stop();
});

const point = 'SELECT id, v FROM items WHERE id = $1';
const pointRound = (key: number, withDescribe = false) => [
  parse('', point),
  bind('', '', [String(key)]),
  ...(withDescribe ? [describeMessage('P', '')] : []),
  execute(),
  sync,
];

/** Rounds for one shard after another, a failing one among them: all written at once, before any reply. */
function pipeline(): Buffer[] {
  const rounds: Buffer[][] = [
    pointRound(a0, true),
    pointRound(a1),
    pointRound(a0),
    [
      parse('', 'UPDATE items SET v = v + 1 WHERE id = $1 RETURNING v'),
      bind('', '', [String(a1)]),
      execute(),
      sync,
    ],
    // A duplicate key on the same shard, in the middle: its error, and the rounds after it run as usual.
    [parse('', 'INSERT INTO items VALUES ($1, 0)'), bind('', '', [String(a0)]), execute(), sync],
    pointRound(a1, true),
    [query(`SELECT v FROM items WHERE id = ${a0}`)],
    [query(`SELECT v FROM items WHERE id = ${a0}`)],
    pointRound(b0),
    [parse('', 'SELECT 1 / (v - v) FROM items WHERE id = $1'), bind('', '', [String(b1)]), execute(), sync],
    pointRound(b1),
    [query('SELECT count(*) FROM items')],
    pointRound(c0, true),
    [parse('named', point), sync],
    [bind('', 'named', [String(c0)]), execute(), sync],
    pointRound(a0),
  ];
  return rounds.map((r) => Buffer.concat(r));
}

/** Each round's reply: message types, rows, tags, SQLSTATEs and transaction status. */
async function pipelineReplies(conn: RawConnection, rounds: Buffer[]): Promise<string[]> {
  conn.write(Buffer.concat(rounds));
  const out: string[] = [];
  for (let i = 0; i < rounds.length; i++) out.push((await conn.untilReady(20_000)).map(shown).join(' '));
  return out;
}

function shown(m: BackendMessage): string {
  if (m.type === 'E') return `E:${errorFields(m.body).code}`;
  if (m.type === 'C') return `C:${m.body.toString('utf8', 0, m.body.length - 1)}`;
  if (m.type === 'Z') return `Z:${String.fromCharCode(m.body[0])}`;
  if (m.type !== 'D') return m.type;
  const values: string[] = [];
  for (let n = m.body.readInt16BE(0), at = 2; n > 0; n--) {
    const len = m.body.readInt32BE(at);
    values.push(len < 0 ? 'null' : m.body.toString('utf8', at + 4, at + 4 + len));
    at += 4 + Math.max(len, 0);
  }
  return `D:${values.join(',')}`;
}

it('answers a pipeline of single-shard rounds, one failing in the middle, exactly as PostgreSQL does', async () => {
  await withRawPair(cluster, proxy, 'plain', async (direct, viaProxy) => {
    // The first pass learns the statements (the engine's general path), the later ones take the fast path.
    for (let pass = 0; pass < 3; pass++) {
      const expected = await pipelineReplies(direct, pipeline());
      expect(expected[4]).toBe('1 2 E:23505 Z:I');
      expect(expected[9]).toBe('1 2 E:22012 Z:I');
      expect(await pipelineReplies(viaProxy, pipeline())).toEqual(expected);
    }
  });
});

it('answers postgres.js queries it pipelines on one connection, as they were issued', async () => {
  const sql = postgres(proxy.url(), { max: 1, onnotice: () => {} });
  try {
    for (let pass = 0; pass < 3; pass++) {
      const results = await Promise.all(
        keys.map((k) => sql`SELECT id, v FROM items WHERE id = ${k}`.then((rows) => rows[0].id as number)),
      );
      expect(results).toEqual(keys);
      const failing = sql`INSERT INTO items VALUES (${a0}, 0)`.catch((e: { code: string }) => e.code);
      const after = sql`SELECT id FROM items WHERE id = ${a0}`;
      expect(await failing).toBe('23505');
      expect(await after).toEqual([{ id: a0 }]);
    }
  } finally {
    await sql.end();
  }
});

it('answers pipelined rounds of more clients than the shard has connections, each in its order', async () => {
  const sql = postgres(proxy.url(), { max: 6, onnotice: () => {} });
  try {
    // Keys of one shard: rounds that waited for one of its two connections are pipelined behind each other there.
    const onOneShard = [a0, a1, a0, a1];
    for (let pass = 0; pass < 5; pass++) {
      const asked = Array.from({ length: 48 }, (_, i) => onOneShard[i % onOneShard.length]);
      const got = await Promise.all(
        asked.map((k) => sql`SELECT id FROM items WHERE id = ${k}`.then((rows) => rows[0].id as number)),
      );
      expect(got).toEqual(asked);
    }
  } finally {
    await sql.end();
  }
});
