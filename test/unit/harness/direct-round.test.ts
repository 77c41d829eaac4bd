// Round -> route on the direct path: a read that is exactly one round, routed by its one key parameter in place.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser } from '../../../src/sql/parser.js';
import { hashShard } from '../../../src/router/sharding/pg-hash.js';
import { Oid } from '../../../src/protocol/type-oids.js';
import {
  bind,
  describePortal,
  execute,
  idShard,
  ids,
  int4,
  int8,
  nullParam,
  parse,
  readDirect,
  readFramed,
  splitMessages,
  statementRound,
  sync,
  text,
  uuid,
  type KnownStatement,
} from './round-bytes.js';

beforeAll(() => loadParser());

const byId = 'SELECT name FROM users WHERE id = $1';

describe('direct path: one round in one read', () => {
  it('routes an unnamed statement by a text or a binary int4 key, and sends the client bytes unchanged', () => {
    for (const [shard, k] of ids.entries()) {
      const asText = statementRound({ sql: byId, params: [text(String(k))] });
      const binary = statementRound({ sql: byId, types: [Oid.int4], params: [int4(k)] });
      for (const bytes of [asText, binary]) {
        const r = readDirect(bytes);
        expect(r).toMatchObject({ shard, write: false, key: String(k) });
        expect(r!.bytes.equals(bytes)).toBe(true);
        expect(r!.serverName).toBeUndefined();
      }
    }
  });

  it('reads a binary int8 key and an untyped binary integer by its width, as the router reads them', () => {
    const big = 2n ** 40n + 3n;
    const typed = readDirect(statementRound({ sql: byId, types: [Oid.int8], params: [int8(big)] }));
    expect(typed).toMatchObject({ shard: idShard(big), key: big.toString() });
    const untyped = readDirect(statementRound({ sql: byId, params: [int8(-big)] }));
    expect(untyped).toMatchObject({ shard: idShard(-big), key: (-big).toString() });
  });

  it('reads the key whatever the format codes, result formats and row limit of the round', () => {
    const k = ids[1];
    const rounds = [
      [parse('', byId, [Oid.int4]), bind('', [int4(k)], { formats: 'shared' }), execute(), sync],
      [
        parse('', byId),
        bind('', [text(String(k))], { formats: 'none', resultFormats: [1] }),
        execute(),
        sync,
      ],
      [parse('', byId), bind('', [text(String(k))], { formats: 'shared' }), execute('', 10), sync],
    ].map((parts) => Buffer.concat(parts));
    for (const bytes of rounds) {
      expect(readDirect(bytes)).toMatchObject({ shard: 1, key: String(k) });
      expect(readFramed([bytes])[0]).toMatchObject({ kind: 'round', route: { kind: 'single', shard: 1 } });
    }
  });

  it('routes text and uuid keys', () => {
    const sql = 'SELECT plan FROM accounts WHERE email = $1';
    for (const email of ['a@example.com', 'ünï@example.com', '']) {
      const r = readDirect(statementRound({ sql, params: [text(email)] }));
      expect(r).toMatchObject({ shard: hashShard('text', email, 3), key: email });
    }
    const id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
    const devices = 'UPDATE devices SET label = $2 WHERE device_id = $1';
    const binary = readDirect(
      statementRound({ sql: devices, types: [Oid.uuid, Oid.text], params: [uuid(id), text('x')] }),
    );
    expect(binary).toMatchObject({ shard: hashShard('uuid', id, 3), write: true, key: id });
    const upper = readDirect(statementRound({ sql: devices, params: [text(id.toUpperCase()), text('x')] }));
    expect(upper).toMatchObject({ shard: hashShard('uuid', id, 3), write: true });
  });

  it('agrees with the router on the same statement for three hundred keys', () => {
    for (let k = -150; k < 150; k++) {
      const bytes = statementRound({ sql: byId, types: [Oid.int4], params: [int4(k * 7919)] });
      const direct = readDirect(bytes)!;
      const [framed] = readFramed([bytes]);
      expect(framed.kind).toBe('round');
      if (framed.kind !== 'round') return;
      expect(framed.route).toMatchObject({ kind: 'single', shard: direct.shard });
      expect(framed.bytes.equals(direct.bytes)).toBe(true);
    }
  });

  it('renames the Bind of a named statement to its copy on shard connections, the rest byte for byte', () => {
    const named = new Map<string, KnownStatement>([['by_id', { sql: byId, types: [Oid.int4] }]]);
    const bytes = statementRound({ statement: 'by_id', params: [int4(ids[2])] });
    const r = readDirect(bytes, named)!;
    expect(r.shard).toBe(2);
    expect(r.serverName).toMatch(/^pp_/);
    const sent = splitMessages(r.bytes);
    const client = splitMessages(bytes);
    expect(sent.map((m) => m.type)).toEqual(['B', 'D', 'E', 'S']);
    expect(sent[0].body.equals(bind(r.serverName!, [int4(ids[2])]).subarray(5))).toBe(true);
    for (let i = 1; i < 4; i++) expect(sent[i].body.equals(client[i].body)).toBe(true);
    // The framed path sends the same bytes for the same round.
    const [framed] = readFramed([bytes], named);
    expect(framed).toMatchObject({ kind: 'round', serverName: r.serverName });
    if (framed.kind === 'round') expect(framed.bytes.equals(r.bytes)).toBe(true);
  });

  it("keeps the shard's bytes when the socket's reused read buffer is overwritten", () => {
    const named = new Map<string, KnownStatement>([['by_id', { sql: byId, types: [] }]]);
    for (const read of [
      statementRound({ sql: byId, params: [text('7')] }),
      statementRound({ statement: 'by_id', params: [text('7')] }),
    ]) {
      const reused = Buffer.from(read);
      const r = readDirect(reused, named)!;
      const copy = Buffer.from(r.bytes);
      reused.fill(0x58);
      expect(r.bytes.equals(copy)).toBe(true);
    }
  });

  it('leaves to the framed path what one key parameter does not decide', () => {
    const none = [
      // No key, an IN list, a NULL key, a key from a literal, an unknown named statement.
      statementRound({ sql: 'SELECT name FROM users WHERE name = $1', params: [text('a')] }),
      statementRound({ sql: 'SELECT name FROM users WHERE id IN ($1, $2)', params: [text('1'), text('2')] }),
      statementRound({ sql: byId, params: [nullParam] }),
      statementRound({ sql: 'SELECT name FROM users WHERE id = 5 AND name = $1', params: [text('a')] }),
      statementRound({ statement: 'nobody', params: [text('1')] }),
      // Two rounds in one read, a named portal, a Parse of a named statement, a round without Sync.
      Buffer.concat([statementRound({ sql: byId, params: [text('1')] }), sync]),
      Buffer.concat([parse('', byId), bind('', [text('1')], { portal: 'p' }), execute('p'), sync]),
      Buffer.concat([parse('s', byId), bind('s', [text('1')]), execute(), sync]),
      Buffer.concat([parse('', byId), bind('', [text('1')]), describePortal(), execute()]),
    ];
    for (const bytes of none) expect(readDirect(bytes)).toBeNull();
  });
});
