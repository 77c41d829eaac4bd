// query_timeout on a sharded database: a statement running too long is cancelled on every shard it runs on,
// and the client sees what the same pool settings give on an unsharded database (plain PostgreSQL behind it).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { bind, errorFields, execute, parse, query, RawConnection, sync } from './helpers/raw-client.js';
import { connect, rejection, withClient } from './helpers/tools.js';
import { createAppDatabase, keyOnShard, shardClient, shardedDatabasesYaml } from './sharding-helpers.js';

let cluster: Cluster;
let proxy: TestProxy;
const keys = [keyOnShard(0, 1), keyOnShard(1, 1), keyOnShard(2, 1)];
const pool = { query_timeout: '1s' };

/** The unsharded database `plain` on shard 0's server, with the sharded database's pool settings. */
function plainDatabaseYaml(): string {
  const s = cluster.shards[0].primary;
  return [
    '  plain:',
    `    backend: { user: postgres, password: ${JSON.stringify(cluster.password)}, database: plain }`,
    '    pool: { mode: transaction, size: 2, acquire_timeout: 10s, query_timeout: 1s }',
    `    shards: [{ primary: "${s.host}:${s.port}" }]`,
  ].join('\n');
}

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  await cluster.shards[0].primary.psql('CREATE DATABASE plain');
  const sharding = { tables: { items: 'id' }, coordinator: 'off' };
  const sharded = shardedDatabasesYaml({ cluster, sharding, pool, poolSize: 2 });
  proxy = await startTestProxy({ databasesYaml: `${sharded}\n${plainDatabaseYaml()}` });
  for (const database of ['app', 'plain']) {
    await withClient(proxy.client('app', database), async (c) => {
      await c.query('CREATE TABLE items (id int PRIMARY KEY, v int)');
      for (const k of keys) await c.query('INSERT INTO items VALUES ($1, 1)', [k]);
    });
  }
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await cluster?.stop();
});

async function login(database: string): Promise<RawConnection> {
  const { conn } = await RawConnection.login(proxy.port, { user: 'app', password: 'app-secret', database });
  return conn;
}

/**
 * What a client reads of each round: its errors (severity, SQLSTATE, message), its rows, its command tags
 * and its ReadyForQuery status. A RowDescription the server sent before the statement failed is left out:
 * the engine answers a statement over several shards once it has every shard's reply.
 */
async function replies(database: string, rounds: Buffer[][]): Promise<string[]> {
  const conn = await login(database);
  try {
    const out: string[] = [];
    for (const messages of rounds) {
      conn.write(Buffer.concat(messages));
      // Messages sent at once may be several rounds: one reply per Query or Sync.
      const ends = messages.filter((m) => m[0] === 0x51 || m[0] === 0x53).length;
      const got: string[] = [];
      for (let i = 0; i < ends; i++)
        got.push((await conn.untilReady(20_000)).map(describeMessage).filter(Boolean).join(' '));
      out.push(got.join(' | '));
    }
    return out;
  } finally {
    conn.end();
  }
}

function describeMessage(m: { type: string; body: Buffer }): string {
  if (m.type === 'E') {
    const f = errorFields(m.body);
    return `E:${f.severity}:${f.code}:${f.message}`;
  }
  if (m.type === 'D') return 'D';
  if (m.type === 'C') return `C:${m.body.toString('utf8', 0, m.body.length - 1)}`;
  if (m.type === 'Z') return `Z:${String.fromCharCode(m.body[0])}`;
  return m.type === 'T' ? '' : m.type;
}

/** Backends of `app` on every shard still running pg_sleep. */
async function sleepersOnShards(): Promise<number> {
  let n = 0;
  for (let i = 0; i < cluster.shards.length; i++) {
    await withClient(shardClient(cluster, i), async (c) => {
      const sql = `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = 'app' AND state = 'active' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()`;
      n += (await c.query(sql)).rows[0].n;
    });
  }
  return n;
}

/** The backend pids of the proxy's connections to `app` on every shard. */
async function proxyBackends(): Promise<number[]> {
  const pids: number[] = [];
  for (let i = 0; i < cluster.shards.length; i++) {
    await withClient(shardClient(cluster, i), async (c) => {
      const sql = `SELECT pid FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid()`;
      pids.push(...(await c.query(sql)).rows.map((r: { pid: number }) => r.pid));
    });
  }
  return pids;
}

const oneShard = `SELECT pg_sleep(600) FROM items WHERE id = ${keys[1]}`;
const everyShard = 'SELECT pg_sleep(600) FROM items';

describe('outside a block', () => {
  it('cancels a statement on one shard with 57014, as an unsharded database does, and the client goes on', async () => {
    // Twice: the first run takes the engine's general path, the second the fast path of a learned statement.
    const rounds = [[query(oneShard)], [query(oneShard)], [query('SELECT v FROM items WHERE id = 1')]];
    const plain = await replies('plain', rounds);
    expect(plain[0]).toBe('E:ERROR:57014:canceling statement due to user request Z:I');
    expect(await replies('app', rounds)).toEqual(plain);
  });

  it('cancels an extended-protocol round on one shard as an unsharded database does', async () => {
    const round = [
      parse('', 'SELECT pg_sleep(600) FROM items WHERE id = $1'),
      bind('', '', [String(keys[2])]),
      execute(),
      sync,
    ];
    const rounds = [round, round, [query('SELECT 1')]];
    const plain = await replies('plain', rounds);
    expect(plain[0]).toBe('1 2 E:ERROR:57014:canceling statement due to user request Z:I');
    expect(await replies('app', rounds)).toEqual(plain);
  });

  it('cancels a scatter on every shard, answers one 57014, and no shard keeps sleeping', async () => {
    const rounds = [[query(everyShard)], [query('SELECT count(*)::int FROM items')]];
    const plain = await replies('plain', rounds);
    expect(plain[0]).toBe('E:ERROR:57014:canceling statement due to user request Z:I');
    const before = await proxyBackends();
    expect(await replies('app', rounds)).toEqual(plain);
    await waitFor(async () => (await sleepersOnShards()) === 0, {
      what: 'every shard to stop sleeping',
      timeoutMs: 10_000,
    });
    // Every shard answered its cancel: the connections went back to the pool, none was closed.
    const after = new Set(await proxyBackends());
    expect(before.filter((pid) => !after.has(pid))).toEqual([]);
  });
});

it('cancels the one pipelined round that runs too long; the rounds behind it on its shard are answered', async () => {
  const point = (key: number) => [
    parse('', 'SELECT v FROM items WHERE id = $1'),
    bind('', '', [String(key)]),
    execute(),
    sync,
  ];
  const sleeping = [
    parse('', 'SELECT pg_sleep(600) FROM items WHERE id = $1'),
    bind('', '', [String(keys[1])]),
    execute(),
    sync,
  ];
  // Learned first (one at a time), then sent at once: the sleeper and the reads behind it share a connection.
  const pipelined = [...point(keys[1]), ...sleeping, ...point(keys[1]), ...point(keys[1])];
  const rounds = [point(keys[1]), sleeping, pipelined];
  const plain = await replies('plain', rounds);
  expect(plain[2]).toBe(
    '1 2 D C:SELECT 1 Z:I | 1 2 E:ERROR:57014:canceling statement due to user request Z:I | 1 2 D C:SELECT 1 Z:I | 1 2 D C:SELECT 1 Z:I',
  );
  expect(await replies('app', rounds)).toEqual(plain);
});

describe('inside a block', () => {
  it('leaves the block failed (25P02 until ROLLBACK), for one shard and for a scatter, as PostgreSQL does', async () => {
    for (const sql of [oneShard, everyShard]) {
      const rounds = [
        [query(`BEGIN; SELECT v FROM items WHERE id = ${keys[0]}`)],
        [query(sql)],
        [query('SELECT 1')],
        [query('ROLLBACK')],
        [query('SELECT count(*)::int FROM items')],
      ];
      const plain = await replies('plain', rounds);
      expect(plain[1]).toBe('E:ERROR:57014:canceling statement due to user request Z:E');
      expect(plain[2]).toMatch(/^E:ERROR:25P02:/);
      expect(await replies('app', rounds)).toEqual(plain);
    }
  });
});

it('leaves other clients alone while it cancels one, and keeps the pool usable', async () => {
  const sleeper = connect(proxy.client()).then(async (c) => {
    try {
      return await rejection(c.query(everyShard));
    } finally {
      await c.end();
    }
  });
  const busy = await connect(proxy.client());
  try {
    let answered = 0;
    // Quick statements on every shard, from another client, while the sleeper's statement runs and is cancelled.
    for (let i = 0; i < 40 && answered < 40; i++) {
      const { rows } = await busy.query('SELECT count(*)::int AS n FROM items WHERE id = ANY($1)', [keys]);
      expect(rows).toEqual([{ n: 3 }]);
      answered++;
    }
    expect((await sleeper).code).toBe('57014');
  } finally {
    await busy.end();
  }
  // With two connections a shard, more parallel clients than connections all get one in turn.
  const clients = await Promise.all(Array.from({ length: 6 }, () => connect(proxy.client())));
  try {
    const counts = await Promise.all(
      clients.map(async (c) => (await c.query('SELECT count(*)::int AS n FROM items')).rows[0].n),
    );
    expect(counts).toEqual([3, 3, 3, 3, 3, 3]);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  for (let i = 0; i < cluster.shards.length; i++) {
    await withClient(shardClient(cluster, i), async (c) => {
      const sql = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid()`;
      expect((await c.query(sql)).rows[0].n).toBeLessThanOrEqual(2);
    });
  }
});

it('closes the connection of a shard that answers neither the statement nor the cancel (08006), and the block fails', async () => {
  const c = new pg.Client(proxy.client());
  await c.connect();
  c.on('error', () => {});
  try {
    await c.query('BEGIN');
    const { rows } = await c.query('SELECT pg_backend_pid() AS pid FROM items WHERE id = $1', [keys[2]]);
    const pid = Number(rows[0].pid);
    process.kill(pid, 'SIGSTOP');
    let err: Error & { code?: string };
    try {
      err = await rejection(c.query('SELECT v FROM items WHERE id = $1', [keys[2]]));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(err.code).toBe('08006');
    expect((await rejection(c.query('SELECT 1'))).code).toBe('25P02');
    await c.query('ROLLBACK');
    expect((await c.query('SELECT v FROM items WHERE id = $1', [keys[2]])).rows).toEqual([{ v: 1 }]);
  } finally {
    await c.end();
  }
});
