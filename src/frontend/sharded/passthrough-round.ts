// Recognises an extended-protocol round that can travel to one shard as the client's own bytes.
import crypto from 'node:crypto';
import { Frontend } from '../../protocol/codes.js';
import { MalformedMessage } from '../../protocol/reader.js';
import {
  readBind,
  readExecute,
  readParse,
  readTarget,
  type BindMessage,
  type ParseMessage,
} from '../../protocol/extended-messages.js';
import { parseMessage } from './wire.js';

export interface ClientMessage {
  type: number;
  body: Buffer;
  /** The message with its type and length, in the same buffer as `body`, when the intake kept it. */
  whole?: Buffer;
}

/** `rest` follows `first` byte for byte in one buffer: their bytes can travel as one view, uncopied. */
function contiguous(first: ClientMessage, rest: readonly ClientMessage[]): Buffer | null {
  if (!first.whole) return null;
  const { buffer, byteOffset } = first.whole;
  let end = byteOffset + first.whole.length;
  for (const m of rest) {
    if (!m.whole || m.whole.buffer !== buffer || m.whole.byteOffset !== end) return null;
    end += m.whole.length;
  }
  return Buffer.from(buffer, byteOffset, end - byteOffset);
}

/** One statement run start to end: [Parse ''] Bind '' [Describe portal ''] Execute '' Sync. */
export interface PassRound {
  /** The unnamed statement the round parses, or null when its Bind names an earlier statement. */
  parse: ParseMessage | null;
  bind: BindMessage;
  /** The round's messages after the first, Sync included, as they wait in the inbox. */
  following: number;
}

/**
 * The round that starts at `messages[start]` when it is one whole statement with the unnamed portal and
 * its Sync has arrived; null for any other shape, which goes message by message.
 */
export function passRound(
  messages: readonly ClientMessage[],
  start: number,
  known?: KnownParse,
): PassRound | null {
  try {
    return readRound(messages, start, known);
  } catch (err) {
    // A malformed message: the general path answers it in its place in the round, as PostgreSQL would.
    if (err instanceof MalformedMessage) return null;
    throw err;
  }
}

/** A Parse read before, by its body: drivers send the same unnamed Parse round after round. */
export interface KnownParse {
  body: Buffer;
  parse: ParseMessage;
}

function readRound(messages: readonly ClientMessage[], start: number, known?: KnownParse): PassRound | null {
  const first = messages[start];
  let i = 0;
  const at = (k: number): ClientMessage | undefined => messages[start + k];
  let parse: ParseMessage | null = null;
  if (first.type === Frontend.Parse) {
    parse = known && first.body.equals(known.body) ? known.parse : readParse(first.body, 0);
    if (parse.name !== '') return null;
    i++;
  }
  const bindMessage = at(i);
  if (bindMessage?.type !== Frontend.Bind) return null;
  const bind = readBind(bindMessage.body, 0);
  if (bind.portal !== '' || (parse && bind.statement !== '')) return null;
  let next = at(++i);
  if (next?.type === Frontend.Describe) {
    const t = readTarget(next.body, 0);
    if (t.kind !== 'P' || t.name !== '') return null;
    next = at(++i);
  }
  if (next?.type !== Frontend.Execute || readExecute(next.body, 0).portal !== '') return null;
  if (at(++i)?.type !== Frontend.Sync) return null;
  return { parse, bind, following: i };
}

/**
 * The messages again with type and length, in one buffer, ready for a shard; with `statement`, the first
 * (a Bind) names that statement instead of the client's, its portal name and the rest kept.
 */
export function roundBytes(first: ClientMessage, rest: readonly ClientMessage[], statement?: string): Buffer {
  if (statement === undefined) {
    const view = contiguous(first, rest);
    if (view) return view;
  }
  const body = first.body;
  const nameStart = statement === undefined ? 0 : body.indexOf(0) + 1;
  const nameEnd = statement === undefined ? 0 : body.indexOf(0, nameStart);
  const firstLength =
    statement === undefined
      ? body.length
      : body.length - (nameEnd - nameStart) + Buffer.byteLength(statement);
  let total = 5 + firstLength;
  for (const m of rest) total += 5 + m.body.length;
  const out = Buffer.allocUnsafe(total);
  out[0] = first.type;
  out.writeInt32BE(firstLength + 4, 1);
  let pos = 5;
  if (statement === undefined) pos += body.copy(out, pos);
  else {
    pos += body.copy(out, pos, 0, nameStart);
    pos += out.write(statement, pos, 'utf8');
    pos += body.copy(out, pos, nameEnd);
  }
  for (const m of rest) {
    out[pos] = m.type;
    out.writeInt32BE(m.body.length + 4, pos + 1);
    pos += 5 + m.body.copy(out, pos + 5);
  }
  return out;
}

/** The name a statement has on shard connections: by text and parameter types, so clients share it. */
export function serverStatement(sql: string, types: number[]): { name: string; parse: Buffer } {
  const name =
    'pp_' +
    crypto
      .createHash('sha1')
      .update(sql + '\0' + types.join(','))
      .digest('base64url')
      .slice(0, 24);
  return { name, parse: parseMessage(sql, types, name) };
}
