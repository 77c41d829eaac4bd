// Round -> route on the framed path: reads framed into messages, taken round by round, routed, and re-sent.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser } from '../../../src/sql/parser.js';
import { hashShard } from '../../../src/router/sharding/pg-hash.js';
import { constantOf, noParams, type Node } from '../../../src/router/sharding/ast-values.js';
import { Oid } from '../../../src/protocol/type-oids.js';
import {
  bind,
  execute,
  idShard,
  ids,
  int4,
  parse,
  query,
  readFramed,
  route,
  splitMessages,
  statementRound,
  sync,
  text,
  uuid,
  type KnownStatement,
} from './round-bytes.js';

beforeAll(() => loadParser());

const byId = 'SELECT name FROM users WHERE id = $1';

describe('framed path: simple Query', () => {
  it('routes a literal key to its shard and sends the Query as the client wrote it', () => {
    const bytes = query(`SELECT name FROM users WHERE id = ${ids[1]}`);
    const [r] = readFramed([bytes]);
    expect(r).toMatchObject({ kind: 'query', route: { kind: 'single', shard: 1, write: false } });
    if (r.kind === 'query') expect(r.bytes.equals(bytes)).toBe(true);
  });

  it('scatters a statement without a key, and an IN list over the shards of its keys', () => {
    expect(readFramed([query('SELECT count(*) FROM users')])[0]).toMatchObject({
      route: { kind: 'scatter', shards: [0, 1, 2], reason: 'no-shard-key' },
    });
    expect(readFramed([query(`SELECT * FROM users WHERE id IN (${ids[0]}, ${ids[2]})`)])[0]).toMatchObject({
      route: { kind: 'scatter', shards: [0, 2], reason: 'shard-keys' },
    });
    const same = [ids[1], ids[1] + 1].filter((k) => idShard(k) === 1);
    expect(readFramed([query(`SELECT * FROM users WHERE id IN (${same.join(', ')})`)])[0]).toMatchObject({
      route: { kind: 'single', shard: 1 },
    });
  });

  it('splits an INSERT of many rows by key, every row on its shard once', () => {
    const keys = Array.from({ length: 30 }, (_, i) => i * 13 + 1);
    const sql = `INSERT INTO users (id, name) VALUES ${keys.map((k) => `(${k}, 'u${k}')`).join(', ')}`;
    const [r] = readFramed([query(sql)]);
    expect(r.kind).toBe('query');
    if (r.kind !== 'query' || r.route.kind !== 'insert-split') throw new Error(JSON.stringify(r));
    expect(r.route.parts.map((p) => p.shard)).toEqual([0, 1, 2]);
    const placed = r.route.parts.flatMap((p) => {
      const select = ((p.stmt.InsertStmt as Node).selectStmt as Node).SelectStmt as Node;
      return (select.valuesLists as Node[]).map((row) => {
        const key = constantOf(((row.List as Node).items as unknown[])[0], noParams);
        expect(idShard(Number(key))).toBe(p.shard);
        return Number(key);
      });
    });
    expect(placed.sort((a, b) => a - b)).toEqual(keys);
  });

  it('gives each kind of statement its route kind, shards and reason', () => {
    const k = ids[2];
    const cases: [string, object][] = [
      [
        `SELECT name FROM users WHERE id = ${k}`,
        { kind: 'single', shard: 2, write: false, reason: 'shard-key' },
      ],
      [
        `UPDATE users SET name = 'x' WHERE id = ${k}`,
        { kind: 'single', shard: 2, write: true, reason: 'shard-key' },
      ],
      [`DELETE FROM users WHERE id = ${k}`, { kind: 'single', shard: 2, write: true, reason: 'shard-key' }],
      [
        `SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = ${k}`,
        { kind: 'single', shard: 2, reason: 'shard-key' },
      ],
      ['SELECT * FROM countries', { kind: 'single', write: false, reason: 'reference-table' }],
      [
        "INSERT INTO countries VALUES ('NL')",
        { kind: 'multi-write', shards: [0, 1, 2], reason: 'reference-table' },
      ],
      ['CREATE INDEX ON users (name)', { kind: 'ddl', shards: [0, 1, 2], reason: 'ddl-all-shards' }],
    ];
    for (const [sql, expected] of cases) {
      const [r] = readFramed([query(sql)]);
      expect(r, sql).toMatchObject({ kind: 'query', route: expected });
    }
  });

  it('routes a write to a reference table to every shard, and refuses what it cannot answer exactly', () => {
    expect(route("UPDATE countries SET name = 'x' WHERE code = 'NL'")).toMatchObject({
      kind: 'multi-write',
      shards: [0, 1, 2],
    });
    // INSERT … SELECT across shards reads on the coordinator; with ON CONFLICT DO UPDATE it is refused (a key
    // repeated in a later batch would be updated where PostgreSQL raises an error).
    expect(route('INSERT INTO users (id, name) SELECT id, name FROM accounts')).toMatchObject({
      kind: 'write-from-read',
    });
    expect(
      route(
        'INSERT INTO users (id, name) SELECT id, name FROM accounts ON CONFLICT (id) DO UPDATE SET name = excluded.name',
      ),
    ).toMatchObject({ kind: 'unsupported' });
  });
});

describe('framed path: extended-protocol rounds', () => {
  it('routes a key from a parameter as it routes the same key from a literal', () => {
    for (const [shard, k] of ids.entries()) {
      const [param] = readFramed([statementRound({ sql: byId, types: [Oid.int4], params: [int4(k)] })]);
      const literal = route(`SELECT name FROM users WHERE id = ${k}`);
      expect(literal).toMatchObject({ kind: 'single', shard });
      expect(param).toMatchObject({ kind: 'round', params: [String(k)], route: literal });
    }
  });

  it('reads text, binary int4 and binary uuid parameters with one shared format code', () => {
    const sql = 'SELECT label FROM devices WHERE device_id = $1 AND label = $2';
    const id = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
    const round = Buffer.concat([
      parse('', sql, [Oid.uuid, Oid.text]),
      bind('', [uuid(id), { format: 1, value: Buffer.from('tv') }], { formats: 'shared' }),
      execute(),
      sync,
    ]);
    const [r] = readFramed([round]);
    expect(r).toMatchObject({ kind: 'round', params: [id, 'tv'] });
    expect(r).toMatchObject({ route: { kind: 'single', shard: hashShard('uuid', id, 3) } });
  });

  it('routes an IN list of parameters over the shards of its keys, and a NULL key to shard 0', () => {
    const sql = 'SELECT name FROM users WHERE id IN ($1, $2, $3)';
    const [r] = readFramed([
      statementRound({ sql, params: ids.slice(0, 2).concat(ids[0]).map(String).map(text) }),
    ]);
    expect(r).toMatchObject({ route: { kind: 'scatter', shards: [0, 1] } });
    // PostgreSQL's hash partitioning puts a NULL key in remainder 0; `id = NULL` matches no row anyway.
    const [none] = readFramed([statementRound({ sql: byId, params: [{ format: 0, value: null }] })]);
    expect(none).toMatchObject({ params: [null], route: { kind: 'single', shard: 0, reason: 'shard-key' } });
  });

  it('routes key = ANY($1) by the keys of a text array parameter', () => {
    const sql = 'SELECT name FROM users WHERE id = ANY($1)';
    const [r] = readFramed([statementRound({ sql, params: [text(`{${ids[1]},${ids[2]}}`)] })]);
    expect(r).toMatchObject({ kind: 'round', route: { kind: 'scatter', shards: [1, 2] } });
  });

  it('splits an INSERT of parameter rows by key, each part keeping the parameters of its rows', () => {
    const keys = [ids[0], ids[1], ids[2], ids[1] + 3 * 1000, ids[0] + 1];
    const values = keys.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
    const params = keys.flatMap((k) => [int4(k), text(`u${k}`)]);
    const types = keys.flatMap(() => [Oid.int4, Oid.text]);
    const [r] = readFramed([
      statementRound({ sql: `INSERT INTO users (id, name) VALUES ${values}`, types, params }),
    ]);
    if (r.kind !== 'round' || r.route.kind !== 'insert-split') throw new Error(JSON.stringify(r));
    for (const part of r.route.parts) {
      const select = ((part.stmt.InsertStmt as Node).selectStmt as Node).SelectStmt as Node;
      for (const row of select.valuesLists as Node[]) {
        const key = (((row.List as Node).items as Node[])[0].ParamRef as Node).number as number;
        expect(idShard(keys[(key - 1) / 2])).toBe(part.shard);
      }
    }
    const rows = r.route.parts.map(
      (p) => (((p.stmt.InsertStmt as Node).selectStmt as Node).SelectStmt as Node).valuesLists as Node[],
    );
    expect(rows.flat()).toHaveLength(keys.length);
  });

  it('takes several rounds in one read in order, each sent as its own bytes', () => {
    const rounds = ids.map((k) => statementRound({ sql: byId, params: [text(String(k))] }));
    rounds.push(statementRound({ sql: 'DELETE FROM users WHERE name = $1', params: [text('gone')] }));
    const out = readFramed([Buffer.concat(rounds)]);
    expect(out.map((r) => r.kind === 'round' && r.route.kind)).toEqual([
      'single',
      'single',
      'single',
      'multi-write',
    ]);
    out.forEach((r, i) => {
      if (r.kind !== 'round') throw new Error(r.kind);
      expect(r.bytes.equals(rounds[i])).toBe(true);
      if (r.route.kind === 'single') expect(r.route.shard).toBe(i);
    });
  });

  it('reads a round split across two reads at every byte alike', () => {
    const round = statementRound({ sql: byId, types: [Oid.int4], params: [int4(ids[2])] });
    const [whole] = readFramed([round]);
    for (let cut = 1; cut < round.length; cut++) {
      const reads = [Buffer.from(round.subarray(0, cut)), Buffer.from(round.subarray(cut))];
      const [r] = readFramed(reads);
      expect(r, `cut at ${cut}`).toEqual(whole);
    }
  });

  it('runs a named statement: its Parse is taken alone, its Bind renamed for shard connections', () => {
    const named = new Map<string, KnownStatement>();
    const prepare = Buffer.concat([parse('q1', byId, [Oid.int4]), sync]);
    expect(readFramed([prepare], named)).toEqual([
      { kind: 'message', type: 'P' },
      { kind: 'message', type: 'S' },
    ]);
    expect(named.get('q1')).toEqual({ sql: byId, types: [Oid.int4] });
    const run = statementRound({ statement: 'q1', params: [int4(ids[1])] });
    const [r] = readFramed([run], named);
    expect(r).toMatchObject({ kind: 'round', route: { kind: 'single', shard: 1 } });
    if (r.kind !== 'round') return;
    const [b, ...rest] = splitMessages(r.bytes);
    expect(b.body.equals(bind(r.serverName!, [int4(ids[1])]).subarray(5))).toBe(true);
    expect(rest.map((m) => m.type)).toEqual(['D', 'E', 'S']);
  });
});

describe('framed path: malformed messages', () => {
  it('takes a round whose Bind is malformed message by message, for the general path to answer', () => {
    const good = bind('', [text('1')]);
    const short = Buffer.from(good);
    // Claims two parameters but carries one: the Bind ends early.
    short.writeInt16BE(2, 5 + 2 + 2 + 2);
    const out = readFramed([Buffer.concat([parse('', byId), short, execute(), sync])]);
    expect(out).toEqual(['P', 'B', 'E', 'S'].map((type) => ({ kind: 'message', type })));
  });

  it('refuses a message of a type or a length PostgreSQL refuses, before taking anything of the read', () => {
    const round = statementRound({ sql: byId, params: [text('1')] });
    const badType = Buffer.concat([round, Buffer.from([0x7a, 0, 0, 0, 4])]);
    expect(readFramed([badType])).toEqual([{ kind: 'fatal', error: 'invalid frontend message type 122' }]);
    const badLength = Buffer.concat([round, Buffer.from([0x53, 0, 0, 0, 3])]);
    expect(readFramed([badLength])).toEqual([{ kind: 'fatal', error: 'invalid message length 3' }]);
  });
});
