// The single-shard fast path of sharded databases: statements that go to one shard as the client's bytes.
//
// Simple queries that differ only in literals share one parsed template; extended-protocol rounds go
// whole, with named statements prepared on whichever pooled connection runs them. Every answer is checked
// against the row the owning shard holds, so a statement sent to the wrong shard finds nothing and fails.
import type pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import { parseCacheStats } from '../../src/sql/parser.js';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import { RawConnection } from './helpers/raw-client.js';
import { Frontend } from '../../src/protocol/codes.js';
import { MessageWriter } from '../../src/protocol/writer.js';
import { createAppDatabase, shardClient, shardedDatabasesYaml } from './sharding-helpers.js';

let cluster: Cluster;
let proxy: TestProxy;
const clients: pg.Client[] = [];
const direct: pg.Client[] = [];
/** Keys of the rows loaded, negative ones included. */
const ids = Array.from({ length: 120 }, (_, i) => (i % 4 === 0 ? -i - 1 : i * 7 + 1));

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  const databasesYaml = shardedDatabasesYaml({
    cluster,
    // Two connections per shard for three clients: named statements meet connections that lack them.
    poolSize: 2,
    sharding: { tables: { items: 'id', tags: 'name', retyped: 'k' } },
  });
  proxy = await startTestProxy({ databasesYaml });
  for (let i = 0; i < 3; i++) clients.push(await connect(proxy.client()));
  for (let i = 0; i < 3; i++) direct.push(await connect(shardClient(cluster, i)));
  const [c] = clients;
  await c.query('CREATE TABLE items (id int8 PRIMARY KEY, name text, v int)');
  await c.query('CREATE TABLE tags (name text PRIMARY KEY, n int)');
  const rows = ids.map((id) => `(${id}, 'item ${id}', ${id * 2})`).join(', ');
  await c.query(`INSERT INTO items VALUES ${rows}`);
  const tags = ids.map((id) => `('tag ${id}', ${id})`).join(', ');
  await c.query(`INSERT INTO tags VALUES ${tags}`);
});

afterAll(async () => {
  for (const c of [...clients, ...direct]) await c.end();
  await proxy?.close();
  await cluster?.stop();
});

/** The row as the shard that owns the key holds it, read directly. */
async function owned(table: 'items' | 'tags', key: number | string): Promise<unknown[]> {
  const shard = hashShard(table === 'items' ? 'int' : 'text', typeof key === 'number' ? BigInt(key) : key, 3);
  const column = table === 'items' ? 'id' : 'name';
  const r = await direct[shard].query({
    text: `SELECT * FROM ${table} WHERE ${column} = $1`,
    values: [key],
    rowMode: 'array',
  });
  return r.rows;
}

describe('simple queries by literal key', () => {
  it('reach the owning shard for every key, through one template per shape', async () => {
    for (const [i, id] of ids.entries()) {
      const c = clients[i % 3];
      const r = await c.query({ text: `SELECT * FROM items WHERE id = ${id}`, rowMode: 'array' });
      expect(r.rows).toEqual(await owned('items', id));
      expect(r.rows).toHaveLength(1);
    }
  });

  it('parse a shape once: new literals reuse its template (the proxy runs in this process)', async () => {
    await clients[0].query(`SELECT name FROM items WHERE id = ${ids[0]} AND name IS NOT NULL`);
    await clients[0].query(`SELECT name FROM items WHERE id = ${ids[1]} AND name IS NOT NULL`);
    const before = parseCacheStats().misses;
    // Signed literals stay in the text (`-5` is one constant to the parser), so only positive keys here.
    for (const id of ids.slice(2, 60).filter((k) => k > 0)) {
      const r = await clients[1].query({
        text: `SELECT name FROM items WHERE id = ${id} AND name IS NOT NULL`,
        rowMode: 'array',
      });
      expect(r.rows).toEqual([[`item ${id}`]]);
    }
    expect(parseCacheStats().misses).toBe(before);
  });

  it('read keys given as strings, negative numbers and text keys alike', async () => {
    for (const id of ids.slice(0, 40)) {
      const quoted = await clients[0].query({
        text: `SELECT * FROM items WHERE id = '${id}'`,
        rowMode: 'array',
      });
      expect(quoted.rows).toEqual(await owned('items', id));
      const spaced = await clients[1].query({
        text: `select name from items where id=${id} and v = ${id * 2}`,
        rowMode: 'array',
      });
      expect(spaced.rows).toEqual([[`item ${id}`]]);
      const tag = await clients[2].query({
        text: `SELECT * FROM tags WHERE name = 'tag ${id}'`,
        rowMode: 'array',
      });
      expect(tag.rows).toEqual(await owned('tags', `tag ${id}`));
    }
  });

  it('update by key on the owning shard and report the row count', async () => {
    for (const id of ids.slice(0, 30)) {
      const r = await clients[id & 1].query(`UPDATE items SET v = v + 1 WHERE id = ${id}`);
      expect(r.rowCount).toBe(1);
      expect((await owned('items', id))[0]).toEqual([String(id), `item ${id}`, id * 2 + 1]);
      await clients[2].query(`UPDATE items SET v = v - 1 WHERE id = ${id}`);
    }
  });

  it('answer an error from the shard and keep the connection and the pool usable', async () => {
    for (let i = 0; i < 6; i++) {
      await expect(
        clients[0].query(`SELECT v / (v - v) FROM items WHERE id = ${ids[i + 1]}`),
      ).rejects.toMatchObject({
        code: '22012',
      });
      const r = await clients[0].query({
        text: `SELECT v FROM items WHERE id = ${ids[i + 1]}`,
        rowMode: 'array',
      });
      expect(r.rows).toEqual([[ids[i + 1] * 2]]);
    }
  });

  it('inside a block join its transaction on the shard and roll back with it', async () => {
    const c = clients[1];
    await c.query('BEGIN');
    const r = await c.query({ text: `SELECT name FROM items WHERE id = ${ids[5]}`, rowMode: 'array' });
    await c.query(`UPDATE items SET v = 0 WHERE id = ${ids[5]}`);
    await c.query('ROLLBACK');
    expect(r.rows).toEqual([[`item ${ids[5]}`]]);
    expect((await owned('items', ids[5]))[0]).toEqual([String(ids[5]), `item ${ids[5]}`, ids[5] * 2]);
  });
});

describe('statements of transaction blocks', () => {
  /** Two keys on different shards. */
  const [a, b] = (() => {
    const first = ids[0];
    const other = ids.find((k) => hashShard('int', BigInt(k), 3) !== hashShard('int', BigInt(first), 3))!;
    return [first, other];
  })();

  it('see their own writes and commit them, on one shard and over two (two-phase commit)', async () => {
    const c = clients[0];
    await c.query('BEGIN');
    await c.query(`UPDATE items SET v = 1000 WHERE id = ${a}`);
    const own = await c.query({ text: 'SELECT v FROM items WHERE id = $1', values: [a], rowMode: 'array' });
    expect(own.rows).toEqual([[1000]]);
    // Not yet visible to others.
    expect((await owned('items', a))[0][2]).toBe(a * 2);
    await c.query({ text: 'UPDATE items SET v = $2 WHERE id = $1', values: [b, 2000] });
    await c.query('COMMIT');
    expect((await owned('items', a))[0][2]).toBe(1000);
    expect((await owned('items', b))[0][2]).toBe(2000);
    await c.query(`UPDATE items SET v = ${a * 2} WHERE id = ${a}`);
    await c.query(`UPDATE items SET v = ${b * 2} WHERE id = ${b}`);
  });

  it('fail the whole block when one statement fails on its shard, until ROLLBACK', async () => {
    const c = clients[1];
    await c.query('BEGIN');
    await c.query(`UPDATE items SET v = 7 WHERE id = ${a}`);
    await expect(c.query(`SELECT v / (v - v) FROM items WHERE id = ${b}`)).rejects.toMatchObject({
      code: '22012',
    });
    // The block failed everywhere, also on the shard of `a`, in both protocols.
    await expect(c.query(`SELECT v FROM items WHERE id = ${a}`)).rejects.toMatchObject({ code: '25P02' });
    await expect(c.query({ text: 'SELECT v FROM items WHERE id = $1', values: [a] })).rejects.toMatchObject({
      code: '25P02',
    });
    await c.query('ROLLBACK');
    expect((await owned('items', a))[0][2]).toBe(a * 2);
    const after = await c.query({ text: `SELECT v FROM items WHERE id = ${a}`, rowMode: 'array' });
    expect(after.rows).toEqual([[a * 2]]);
  });

  it('run named statements inside a block on a connection that lacks them', async () => {
    const c = clients[2];
    await c.query('BEGIN');
    for (const id of [a, b]) {
      const r = await c.query({
        name: 'in_block',
        text: 'SELECT name FROM items WHERE id = $1',
        values: [id],
      });
      expect(r.rows).toEqual([{ name: `item ${id}` }]);
    }
    await c.query('COMMIT');
  });
});

describe('malformed messages', () => {
  const login = { user: 'app', password: 'app-secret', database: 'app' };
  const sync = Buffer.from([Frontend.Sync, 0, 0, 0, 4]);
  const parse = new MessageWriter(Frontend.Parse)
    .cstring('')
    .cstring('SELECT v FROM items WHERE id = $1')
    .int16(0)
    .finish();
  const execute = new MessageWriter(Frontend.Execute).cstring('').int32(0).finish();

  it('answer a Bind whose parameters run past its end with an error, and keep serving everyone', async () => {
    const { conn } = await RawConnection.login(proxy.port, login);
    // A Bind of the unnamed statement claiming one parameter of 100 bytes but carrying 2.
    const bad = new MessageWriter(Frontend.Bind)
      .cstring('')
      .cstring('')
      .int16(0)
      .int16(1)
      .int32(100)
      .bytes(Buffer.from('12'))
      .finish();
    conn.write(Buffer.concat([parse, bad, execute, sync]));
    const replies = await conn.untilReady();
    const error = replies.find((m) => m.type === 'E');
    expect(error?.body.toString('latin1')).toContain('C08P01');
    expect(replies.at(-1)?.type).toBe('Z');
    conn.end();
    const r = await clients[0].query({
      text: 'SELECT v FROM items WHERE id = $1',
      values: [ids[2]],
      rowMode: 'array',
    });
    expect(r.rows).toEqual([[ids[2] * 2]]);
  });

  it('answer every truncation of a Bind with an error for its round, on one connection that goes on', async () => {
    const { conn } = await RawConnection.login(proxy.port, login);
    const whole = new MessageWriter(Frontend.Bind)
      .cstring('')
      .cstring('')
      .int16(1)
      .int16(0)
      .int16(1)
      .int32(1)
      .bytes(Buffer.from('8'))
      .int16(1)
      .int16(0)
      .finish();
    const body = whole.subarray(5);
    for (let cut = 0; cut < body.length; cut++) {
      const truncated = new MessageWriter(Frontend.Bind).bytes(body.subarray(0, cut)).finish();
      conn.write(Buffer.concat([parse, truncated, execute, sync]));
      const replies = await conn.untilReady();
      expect(replies.map((m) => m.type).join('')).toBe('1EZ');
    }
    conn.write(Buffer.concat([parse, new MessageWriter(Frontend.Bind).bytes(body).finish(), execute, sync]));
    const replies = await conn.untilReady();
    expect(replies.map((m) => m.type).join('')).toBe('12DCZ');
    expect(ids[1]).toBe(8);
    conn.end();
  });
});

describe('large and failing replies', () => {
  it('stream a reply of many chunks through, in both protocols', async () => {
    await clients[0].query('CREATE TABLE events (user_id int8, seq int, payload text)');
    await clients[0].query(
      'INSERT INTO events SELECT 42, g, repeat(md5(g::text), 6) FROM generate_series(1, 20000) g WHERE 42 = 42',
    );
    const simple = await clients[1].query('SELECT seq, payload FROM events WHERE user_id = 42 ORDER BY seq');
    expect(simple.rows).toHaveLength(20000);
    expect(simple.rows[19999].seq).toBe(20000);
    const extended = await clients[2].query({
      text: 'SELECT seq, length(payload) AS n FROM events WHERE user_id = $1 ORDER BY seq',
      values: [42],
    });
    expect(extended.rows).toHaveLength(20000);
    expect(extended.rows.every((r: { n: number }) => r.n === 192)).toBe(true);
  });

  it('answer the error of a named statement whose table went away, and go on', async () => {
    const c = clients[0];
    await c.query('CREATE TABLE scratch (id int8 PRIMARY KEY, v int)');
    await c.query('INSERT INTO scratch VALUES (1, 10), (2, 20)');
    const read = (id: number) =>
      c.query({
        name: 'scratch_by_id',
        text: 'SELECT v FROM scratch WHERE id = $1',
        values: [id],
        rowMode: 'array',
      });
    expect((await read(1)).rows).toEqual([[10]]);
    await c.query('DROP TABLE scratch');
    await expect(read(2)).rejects.toMatchObject({
      code: '42P01',
      message: 'relation "scratch" does not exist',
    });
    const after = await c.query({
      text: 'SELECT v FROM items WHERE id = $1',
      values: [ids[1]],
      rowMode: 'array',
    });
    expect(after.rows).toEqual([[ids[1] * 2]]);
  });
});

describe('extended-protocol rounds by parameter', () => {
  it('run unnamed statements on the owning shard', async () => {
    for (const [i, id] of ids.entries()) {
      const r = await clients[i % 3].query({
        text: 'SELECT * FROM items WHERE id = $1',
        values: [id],
        rowMode: 'array',
      });
      expect(r.rows).toEqual(await owned('items', id));
    }
  });

  it('run named statements from several clients over fewer connections, re-prepared where missing', async () => {
    for (const [i, id] of ids.entries()) {
      const r = await clients[i % 3].query({
        name: 'item_by_id',
        text: 'SELECT name, v FROM items WHERE id = $1',
        values: [id],
        rowMode: 'array',
      });
      expect(r.rows).toEqual([[`item ${id}`, id * 2]]);
    }
  });

  it('keep named statements working after a client ran DISCARD ALL on a pooled connection', async () => {
    await clients[0].query('DISCARD ALL');
    for (const [i, id] of ids.slice(0, 30).entries()) {
      const r = await clients[(i % 2) + 1].query({
        name: 'item_by_id',
        text: 'SELECT name, v FROM items WHERE id = $1',
        values: [id],
        rowMode: 'array',
      });
      expect(r.rows).toEqual([[`item ${id}`, id * 2]]);
    }
  });

  it('pass binary parameters and results through unchanged', async () => {
    const sql = postgres(proxy.url(), { max: 2, prepare: true, onnotice: () => {} });
    try {
      for (const id of ids.slice(0, 40)) {
        const rows = await sql`SELECT id, name, v FROM items WHERE id = ${id}`;
        expect(rows).toEqual([{ id: String(id), name: `item ${id}`, v: id * 2 }]);
      }
      // Pipelined: every answer comes back in order.
      const many = await Promise.all(ids.map((id) => sql`SELECT v FROM items WHERE id = ${id}`));
      expect(many.map((r) => r[0].v)).toEqual(ids.map((id) => id * 2));
    } finally {
      await sql.end();
    }
  });

  it('route by the new key type once the table is created again with another (DDL through the proxy)', async () => {
    const c = clients[1];
    const keys = Array.from({ length: 12 }, (_, i) => String(i * 11 + 3));
    // The same unnamed statement and the same simple-query template before and after: both keep a key route.
    const reads = async (k: string) => [
      (await c.query({ text: 'SELECT v FROM retyped WHERE k = $1', values: [k], rowMode: 'array' })).rows,
      (await c.query({ text: `SELECT v FROM retyped WHERE k = '${k}'`, rowMode: 'array' })).rows,
    ];
    await c.query('CREATE TABLE retyped (k int8 PRIMARY KEY, v text)');
    await c.query(`INSERT INTO retyped VALUES ${keys.map((k) => `(${k}, 'int ${k}')`).join(', ')}`);
    for (const k of keys) expect(await reads(k)).toEqual([[[`int ${k}`]], [[`int ${k}`]]]);
    // Text keys hash unlike integers: a key route kept from the int8 table would miss most rows now.
    await c.query('DROP TABLE retyped');
    await c.query('CREATE TABLE retyped (k text PRIMARY KEY, v text)');
    await c.query(`INSERT INTO retyped VALUES ${keys.map((k) => `('${k}', 'text ${k}')`).join(', ')}`);
    for (const k of keys) expect(await reads(k)).toEqual([[[`text ${k}`]], [[`text ${k}`]]]);
    const placed = await Promise.all(
      direct.map(async (d) => (await d.query('SELECT k FROM retyped')).rows.map((r: { k: string }) => r.k)),
    );
    for (const k of keys) expect(placed[hashShard('text', k, 3)]).toContain(k);
  });

  it('answer an error from the shard for the round and go on', async () => {
    const c = clients[2];
    await expect(
      c.query({ text: 'SELECT v / (v - v) FROM items WHERE id = $1', values: [ids[3]] }),
    ).rejects.toMatchObject({ code: '22012' });
    const r = await c.query({
      text: 'SELECT v FROM items WHERE id = $1',
      values: [ids[3]],
      rowMode: 'array',
    });
    expect(r.rows).toEqual([[ids[3] * 2]]);
  });
});

describe('rounds that arrive as one read (routed before any framing)', () => {
  const login = { user: 'app', password: 'app-secret', database: 'app' };
  const sync = new MessageWriter(Frontend.Sync).finish();
  const describePortal = new MessageWriter(Frontend.Describe).int8(0x50).cstring('').finish();
  const execute = new MessageWriter(Frontend.Execute).cstring('').int32(0).finish();
  const parseOf = (name: string, sql: string, types: number[] = []) => {
    const w = new MessageWriter(Frontend.Parse).cstring(name).cstring(sql).int16(types.length);
    for (const t of types) w.int32(t);
    return w.finish();
  };
  /** A Bind of one parameter: text, or binary int8 when `binary`. */
  const bindOf = (statement: string, id: number, binary = false) => {
    const value = binary ? Buffer.alloc(8) : Buffer.from(String(id));
    if (binary) value.writeBigInt64BE(BigInt(id));
    return new MessageWriter(Frontend.Bind)
      .cstring('')
      .cstring(statement)
      .int16(1)
      .int16(binary ? 1 : 0)
      .int16(1)
      .int32(value.length)
      .bytes(value)
      .int16(0)
      .finish();
  };
  const dataRows = (replies: { type: string; body: Buffer }[]) =>
    replies.filter((m) => m.type === 'D').map((m) => m.body.toString('utf8', 6));

  it('run unnamed and named statements on the owning shard, text and binary keys alike', async () => {
    const { conn } = await RawConnection.login(proxy.port, login);
    const unnamed = parseOf('', 'SELECT name FROM items WHERE id = $1', [20]);
    conn.write(Buffer.concat([parseOf('by_key', 'SELECT name FROM items WHERE id = $1'), sync]));
    expect((await conn.untilReady()).map((m) => m.type).join('')).toBe('1Z');
    for (const [i, id] of ids.entries()) {
      const binary = i % 2 === 1;
      conn.write(Buffer.concat([unnamed, bindOf('', id, binary), describePortal, execute, sync]));
      const first = await conn.untilReady();
      expect(first.map((m) => m.type).join('')).toBe('12TDCZ');
      expect(dataRows(first)).toEqual([`item ${id}`]);
      conn.write(Buffer.concat([bindOf('by_key', id, binary), describePortal, execute, sync]));
      const second = await conn.untilReady();
      expect(second.map((m) => m.type).join('')).toBe('2TDCZ');
      expect(dataRows(second)).toEqual([`item ${id}`]);
    }
    conn.end();
  });

  it('write by key on the owning shard, and read a NULL key as PostgreSQL does (no row)', async () => {
    const { conn } = await RawConnection.login(proxy.port, login);
    const update = parseOf('', 'UPDATE items SET v = v + 1 WHERE id = $1');
    for (const id of ids.slice(0, 20)) {
      conn.write(Buffer.concat([update, bindOf('', id), execute, sync]));
      const replies = await conn.untilReady();
      expect(replies.map((m) => m.type).join('')).toBe('12CZ');
      expect((await owned('items', id))[0][2]).toBe(id * 2 + 1);
      await clients[0].query(`UPDATE items SET v = v - 1 WHERE id = ${id}`);
    }
    const nullKey = new MessageWriter(Frontend.Bind)
      .cstring('')
      .cstring('')
      .int16(0)
      .int16(1)
      .int32(-1)
      .int16(0);
    const select = parseOf('', 'SELECT name FROM items WHERE id = $1');
    conn.write(Buffer.concat([select, nullKey.finish(), execute, sync]));
    expect((await conn.untilReady()).map((m) => m.type).join('')).toBe('12CZ');
    conn.end();
  });

  it('take two rounds in one read one after the other, in order', async () => {
    const { conn } = await RawConnection.login(proxy.port, login);
    const select = parseOf('', 'SELECT name FROM items WHERE id = $1');
    const [a, b] = [ids[7], ids[8]];
    conn.write(Buffer.concat([select, bindOf('', a), execute, sync, select, bindOf('', b), execute, sync]));
    const first = await conn.untilReady();
    const second = await conn.untilReady();
    expect([dataRows(first), dataRows(second)]).toEqual([[`item ${a}`], [`item ${b}`]]);
    conn.end();
  });
});
