// Client rounds as bytes, and a sharded database's round reader and router run on them with no server.
//
// The builders write each message field by field (the protocol's MessageWriter and frontend-messages), not
// with the proxy's own Bind/Execute writers, so a slip in those cannot hide itself here. `readDirect` is
// what a session does with a read that is exactly one round; `readFramed` what it does with reads framed
// into messages (a round split across reads, several rounds in one read, a simple Query).
import { Frontend } from '../../../src/protocol/codes.js';
import * as fe from '../../../src/protocol/frontend-messages.js';
import { MessageFramer } from '../../../src/protocol/framer.js';
import { MessageWriter } from '../../../src/protocol/writer.js';
import { readParse, type ParseMessage } from '../../../src/protocol/extended-messages.js';
import { boundParamText, scanRound, shardRoundBytes } from '../../../src/frontend/rounds/round-scan.js';
import {
  ClientMessage,
  passRound,
  roundBytes,
  serverStatement,
} from '../../../src/frontend/rounds/passthrough-round.js';
import { paramText } from '../../../src/frontend/rounds/param-text.js';
import { parseSql } from '../../../src/sql/parser.js';
import { noParams, type Node, type ParamValues } from '../../../src/router/sharding/ast-values.js';
import { keyParamRoute } from '../../../src/router/sharding/key-param-route.js';
import { ShardMap } from '../../../src/router/sharding/shard-map.js';
import { hashShard } from '../../../src/router/sharding/pg-hash.js';
import { routeStatement, type ShardRoute, type TableMeta } from '../../../src/router/sharding/shard-route.js';

/** One bound parameter: its format (0 text, 1 binary) and bytes, or null for SQL NULL. */
export interface Param {
  format: 0 | 1;
  value: Buffer | null;
}

export const text = (v: string): Param => ({ format: 0, value: Buffer.from(v, 'utf8') });
export const nullParam: Param = { format: 0, value: null };

export function int4(n: number): Param {
  const value = Buffer.alloc(4);
  value.writeInt32BE(n);
  return { format: 1, value };
}

export function int8(n: bigint): Param {
  const value = Buffer.alloc(8);
  value.writeBigInt64BE(n);
  return { format: 1, value };
}

export const uuid = (v: string): Param => ({ format: 1, value: Buffer.from(v.replace(/-/g, ''), 'hex') });

export function parse(name: string, sql: string, types: readonly number[] = []): Buffer {
  if (types.length === 0) return fe.parse(name, sql);
  const w = new MessageWriter(Frontend.Parse).cstring(name).cstring(sql).int16(types.length);
  for (const t of types) w.int32(t);
  return w.finish();
}

/**
 * Bind with PostgreSQL's three format encodings: `formats` 'each' (one per parameter), 'shared' (one code
 * for all, the first parameter's) or 'none' (all text, only valid when every parameter is text).
 */
export function bind(
  statement: string,
  params: readonly Param[],
  opts: { portal?: string; formats?: 'each' | 'shared' | 'none'; resultFormats?: number[] } = {},
): Buffer {
  const w = new MessageWriter(Frontend.Bind).cstring(opts.portal ?? '').cstring(statement);
  const formats = opts.formats ?? 'each';
  if (formats === 'none') w.int16(0);
  else if (formats === 'shared') w.int16(1).int16(params[0]?.format ?? 0);
  else {
    w.int16(params.length);
    for (const p of params) w.int16(p.format);
  }
  w.int16(params.length);
  for (const p of params) {
    if (p.value === null) w.int32(-1);
    else w.int32(p.value.length).bytes(p.value);
  }
  const results = opts.resultFormats ?? [];
  w.int16(results.length);
  for (const f of results) w.int16(f);
  return w.finish();
}

export function describePortal(name = ''): Buffer {
  return new MessageWriter(Frontend.Describe).int8(0x50).cstring(name).finish();
}

export function execute(portal = '', maxRows = 0): Buffer {
  return new MessageWriter(Frontend.Execute).cstring(portal).int32(maxRows).finish();
}

export const sync = fe.sync;
export const query = fe.query;

/** A driver's statement round: [Parse ''] Bind [Describe portal] Execute Sync, in one buffer. */
export function statementRound(r: {
  sql?: string;
  statement?: string;
  types?: readonly number[];
  params: readonly Param[];
  describe?: boolean;
}): Buffer {
  const parts: Buffer[] = [];
  if (r.sql !== undefined) parts.push(parse('', r.sql, r.types));
  parts.push(bind(r.statement ?? '', r.params));
  if (r.describe !== false) parts.push(describePortal());
  parts.push(execute(), sync);
  return Buffer.concat(parts);
}

/** Three hash shards: users by an int id, accounts by a text email, devices by a uuid; countries everywhere. */
export const shardMap = new ShardMap(
  {
    tables: { users: 'id', orders: 'user_id', accounts: 'email', devices: 'device_id' },
    reference: ['countries'],
    default_shard: 0,
    algorithm: 'hash',
  },
  3,
);

/** The shard of a user id, and one id on each shard (ids[s] is on shard s). */
export const idShard = (k: number | bigint): number => hashShard('int', BigInt(k), 3);
export const ids = [0, 1, 2].map((s) => {
  let k = 1;
  while (idShard(k) !== s) k++;
  return k;
});

const tableMeta: Record<string, TableMeta> = {
  users: { keyType: 'int', columns: ['id', 'name'] },
  orders: { keyType: 'int', columns: ['id', 'user_id', 'total'] },
  accounts: { keyType: 'text', columns: ['email', 'plan'] },
  devices: { keyType: 'uuid', columns: ['device_id', 'label'] },
};
export const metaOf = (table: string): TableMeta | undefined => tableMeta[table.toLowerCase()];

/** A statement the client parsed: its text and parameter types, as the session keeps it by name. */
export interface KnownStatement {
  sql: string;
  types: number[];
}

const knownOf = (p: ParseMessage): KnownStatement => ({ sql: p.sql, types: p.paramTypes });

/** Parsed statements by text, as a session keeps a statement's parse from round to round. */
const parsed = new Map<string, Node>();

function parsedOne(sql: string): Node {
  const known = parsed.get(sql);
  if (known) return known;
  const result = parseSql(sql);
  if (!result.ok || result.statements.length !== 1) throw new Error(`not one statement: ${sql}`);
  parsed.set(sql, result.statements[0] as Node);
  return result.statements[0] as Node;
}

export function route(sql: string, params: ParamValues = noParams): ShardRoute {
  return routeStatement(parsedOne(sql), { map: shardMap, meta: metaOf, params });
}

/** A read the direct path took: the shard one key parameter picked, and the bytes that shard receives. */
export interface DirectRound {
  shard: number;
  write: boolean;
  key: string | null;
  bytes: Buffer;
  /** The statement's name on shard connections when the Bind named a client's statement. */
  serverName?: string;
}

/**
 * The direct path on a read that is exactly one round: null when the read is no such round or no one
 * parameter decides its shard (the framed path answers it then). `unnamed` is the statement of an earlier
 * Parse '' (drivers repeat it); `named` the client's named statements.
 */
export function readDirect(
  chunk: Buffer,
  named: ReadonlyMap<string, KnownStatement> = new Map(),
): DirectRound | null {
  const layout = scanRound(chunk);
  if (!layout) return null;
  const statement =
    layout.parse >= 0
      ? knownOf(readParse(chunk, 5, layout.bind))
      : named.get(chunk.toString('utf8', layout.nameStart, layout.nameEnd));
  if (!statement) return null;
  const keyRoute = keyParamRoute(parsedOne(statement.sql), shardMap);
  const keyType = keyRoute && metaOf(keyRoute.placement.table)?.keyType;
  if (!keyRoute || !keyType) return null;
  const key = boundParamText(chunk, layout, keyRoute.param, statement.types);
  if (key === undefined || key === null) return null;
  const shard = keyRoute.placement.shardOf(key, keyType) ?? shardMap.defaultShard;
  const serverName = layout.parse >= 0 ? undefined : serverStatement(statement.sql, statement.types).name;
  return { shard, write: keyRoute.write, key, bytes: shardRoundBytes(chunk, layout, serverName), serverName };
}

/** What the framed path made of the messages, in order. */
export type Framed =
  /** A simple Query, routed as it is. */
  | { kind: 'query'; sql: string; route: ShardRoute; bytes: Buffer }
  /** A whole round of one statement: its route, its parameters as the router read them, the shard's bytes. */
  | {
      kind: 'round';
      sql: string;
      route: ShardRoute;
      params: (string | null | undefined)[];
      bytes: Buffer;
      serverName?: string;
    }
  /** A message the general path takes on its own (a named Parse, a Sync, a malformed round's messages). */
  | { kind: 'message'; type: string }
  /** The framer refused the bytes: the session ends the connection with 08P01. */
  | { kind: 'fatal'; error: string };

/**
 * The reads framed as the session frames them (one copy per read), then taken round by round as the
 * session's inbox is; `named` gains the statements that named Parse messages create.
 */
export function readFramed(reads: readonly Buffer[], named = new Map<string, KnownStatement>()): Framed[] {
  const framer = MessageFramer.client(1 << 20);
  const messages: ClientMessage[] = [];
  try {
    for (const chunk of reads)
      framer.feed(Buffer.from(chunk), (type, buf, start, end) =>
        messages.push(new ClientMessage(type, buf, start, end)),
      );
  } catch (err) {
    return [{ kind: 'fatal', error: (err as Error).message }];
  }
  const out: Framed[] = [];
  for (let i = 0; i < messages.length;) {
    const m = messages[i];
    if (m.type === Frontend.Query) {
      out.push({ kind: 'query', sql: m.text(), route: route(m.text()), bytes: Buffer.from(m.whole) });
      i++;
      continue;
    }
    const round = passRound(messages, i);
    const statement = round && (round.parse ? knownOf(round.parse) : named.get(round.bind.statement));
    if (!round || !statement) {
      if (m.type === Frontend.Parse) {
        const p = readParse(m.buf, m.start + 5, m.end);
        named.set(p.name, knownOf(p));
      }
      out.push({ kind: 'message', type: String.fromCharCode(m.type) });
      i++;
      continue;
    }
    const bound = { formats: round.bind.paramFormats, values: round.bind.params, types: statement.types };
    const values = paramText(bound);
    const serverName = round.parse ? undefined : serverStatement(statement.sql, statement.types).name;
    const rest = messages.slice(i + 1, i + round.following + 1);
    out.push({
      kind: 'round',
      sql: statement.sql,
      route: route(statement.sql, values),
      params: round.bind.params.map((_, n) => values(n + 1)),
      bytes: Buffer.from(roundBytes(m, rest, serverName)),
      serverName,
    });
    i += round.following + 1;
  }
  return out;
}

/** Message types and bodies of a byte stream a server receives, for comparing what changed. */
export function splitMessages(bytes: Buffer): { type: string; body: Buffer }[] {
  const out: { type: string; body: Buffer }[] = [];
  for (let at = 0; at < bytes.length;) {
    const end = at + 1 + bytes.readInt32BE(at + 1);
    if (end > bytes.length) throw new Error(`message at ${at} runs past the end`);
    out.push({ type: String.fromCharCode(bytes[at]), body: bytes.subarray(at + 5, end) });
    at = end;
  }
  return out;
}
