// Finds one extended-protocol round in a client's read, in place: no message objects, no decoded Bind.
//
// Drivers send a statement as one write: [Parse ''] Bind '' [Describe P ''] Execute '' Sync. When a read
// holds exactly that, the sharded fast path routes it from these offsets and the one key parameter,
// instead of framing it into messages and decoding every field first (about a microsecond per statement).
import { Frontend } from '../../protocol/codes.js';
import { boundValueText } from './param-text.js';

/** Offsets of one round's messages in a buffer that holds exactly that round. */
export interface RoundLayout {
  /** The Parse's type byte, or -1 when the Bind names an earlier statement. */
  parse: number;
  /** The Bind's type byte, and one past its last byte. */
  bind: number;
  bindEnd: number;
  /** The statement name the Bind gives, [nameStart, nameEnd); empty with a Parse. */
  nameStart: number;
  nameEnd: number;
}

/** The end of the message at `at` when a whole one of `type` lies there, else -1. */
function messageEnd(buf: Buffer, at: number, type: number): number {
  if (at + 5 > buf.length || buf[at] !== type) return -1;
  const size = buf.readInt32BE(at + 1);
  return size >= 4 && at + 1 + size <= buf.length ? at + 1 + size : -1;
}

/**
 * The layout when `buf` is exactly one round of one statement on the unnamed portal (a Parse only of the
 * unnamed statement); null for any other shape or a malformed message, which the general path answers.
 */
export function scanRound(buf: Buffer): RoundLayout | null {
  let at = 0;
  let parse = -1;
  if (buf.length > 0 && buf[0] === Frontend.Parse) {
    const end = messageEnd(buf, 0, Frontend.Parse);
    if (end < 0 || end < 6 || buf[5] !== 0) return null;
    parse = 0;
    at = end;
  }
  const bind = at;
  const bindEnd = messageEnd(buf, bind, Frontend.Bind);
  // The portal name (empty) and the statement name, both inside the message.
  if (bindEnd < 0 || bind + 6 >= bindEnd || buf[bind + 5] !== 0) return null;
  const nameStart = bind + 6;
  const nameEnd = buf.indexOf(0, nameStart);
  if (nameEnd < 0 || nameEnd >= bindEnd || (parse >= 0 && nameEnd !== nameStart)) return null;
  at = bindEnd;
  const describeEnd = messageEnd(buf, at, Frontend.Describe);
  if (describeEnd >= 0) {
    if (describeEnd !== at + 7 || buf[at + 5] !== 0x50 || buf[at + 6] !== 0) return null;
    at = describeEnd;
  }
  const executeEnd = messageEnd(buf, at, Frontend.Execute);
  if (executeEnd !== at + 10 || buf[at + 5] !== 0) return null;
  at = executeEnd;
  if (messageEnd(buf, at, Frontend.Sync) !== at + 5 || at + 5 !== buf.length) return null;
  return { parse, bind, bindEnd, nameStart, nameEnd };
}

/**
 * Parameter `n` ($n, from 1) of the round's Bind as text for routing, as `boundValueText` reads a value; null
 * for SQL NULL; undefined when it cannot be read or the Bind is malformed anywhere (the general path answers
 * that with 08P01).
 */
export function boundParamText(
  buf: Buffer,
  layout: RoundLayout,
  n: number,
  types: readonly number[],
): string | null | undefined {
  const end = layout.bindEnd;
  let at = layout.nameEnd + 1;
  if (at + 2 > end) return undefined;
  const formatCount = buf.readInt16BE(at);
  const formatsAt = at + 2;
  at = formatsAt + 2 * formatCount;
  if (formatCount < 0 || at + 2 > end) return undefined;
  const paramCount = buf.readInt16BE(at);
  if (n < 1 || n > paramCount || (formatCount > 1 && formatCount !== paramCount)) return undefined;
  at += 2;
  let valueStart = -1;
  let size = -1;
  for (let i = 1; i <= paramCount; i++) {
    if (at + 4 > end) return undefined;
    const length = buf.readInt32BE(at);
    if (length < -1) return undefined;
    at += 4;
    if (i === n) {
      valueStart = at;
      size = length;
    }
    if (length > 0) at += length;
    if (at > end) return undefined;
  }
  // The result formats end the message exactly.
  if (at + 2 > end) return undefined;
  const resultFormats = buf.readInt16BE(at);
  if (resultFormats < 0 || at + 2 + 2 * resultFormats !== end) return undefined;
  if (size < 0) return null;
  const format = formatCount === 0 ? 0 : buf.readInt16BE(formatsAt + (formatCount === 1 ? 0 : 2 * (n - 1)));
  return boundValueText(buf, valueStart, valueStart + size, format, types[n - 1] ?? 0);
}

/**
 * The round as a shard receives it, in a buffer of its own: its Bind naming `serverName` (the statement's
 * name on shard connections) instead of the client's name, when given; else the client's bytes as they are.
 */
export function shardRoundBytes(buf: Buffer, layout: RoundLayout, serverName?: string): Buffer {
  if (serverName === undefined) return Buffer.from(buf);
  const nameBytes = Buffer.byteLength(serverName, 'latin1');
  const total = buf.length - (layout.nameEnd - layout.nameStart) + nameBytes;
  const out = Buffer.allocUnsafe(total);
  let pos = buf.copy(out, 0, 0, layout.nameStart);
  pos += out.write(serverName, pos, 'latin1');
  buf.copy(out, pos, layout.nameEnd);
  out.writeInt32BE(
    layout.bindEnd - layout.bind - 1 - (layout.nameEnd - layout.nameStart) + nameBytes,
    layout.bind + 1,
  );
  return out;
}
