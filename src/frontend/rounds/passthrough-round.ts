// Recognises an extended-protocol round that can travel to one shard as the client's own bytes.
import crypto from 'node:crypto';
import { Frontend } from '../../protocol/codes.js';
import { MalformedMessage } from '../../protocol/reader.js';
import {
  readBind,
  readParse,
  type BindMessage,
  type ParseMessage,
} from '../../protocol/extended-messages.js';
import { parseMessage } from '../../backend/shard-wire.js';
import { sameBytes } from '../../net/socket-input.js';

/** A client message in a buffer the session owns: `start` is its type byte, `end` one past its last byte. */
export class ClientMessage {
  private bodyView: Buffer | null = null;

  constructor(
    readonly type: number,
    readonly buf: Buffer,
    readonly start: number,
    readonly end: number,
  ) {}

  /** A message on its own, type and length included. */
  static of(whole: Buffer): ClientMessage {
    return new ClientMessage(whole[0], whole, 0, whole.length);
  }

  /** The message after its type and length (a view, made once). */
  get body(): Buffer {
    return (this.bodyView ??= this.buf.subarray(this.start + 5, this.end));
  }

  get bodyLength(): number {
    return this.end - this.start - 5;
  }

  /** A Query's text: the body without its terminating zero byte. */
  text(): string {
    return this.buf.toString('utf8', this.start + 5, this.end - 1);
  }

  /** The message as the client sent it, type and length included. */
  get whole(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }
}

/** The bytes of `first` and `rest` as one view when they lie side by side in one buffer, else null. */
function contiguous(first: ClientMessage, rest: readonly ClientMessage[]): Buffer | null {
  let end = first.end;
  for (const m of rest) {
    if (m.buf !== first.buf || m.start !== end) return null;
    end = m.end;
  }
  return first.buf.subarray(first.start, end);
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
    parse =
      known && sameBytes(first.buf, first.start + 5, first.end, known.body)
        ? known.parse
        : readParse(first.buf, first.start + 5, first.end);
    if (parse.name !== '') return null;
    i++;
  }
  const bindMessage = at(i);
  if (bindMessage?.type !== Frontend.Bind) return null;
  const bind = readBind(bindMessage.buf, bindMessage.start + 5, bindMessage.end);
  if (bind.portal !== '' || (parse && bind.statement !== '')) return null;
  let next = at(++i);
  // Describe and Execute of the unnamed portal: 'P' and an empty name; an empty name and a row limit.
  if (next?.type === Frontend.Describe) {
    if (next.bodyLength !== 2 || next.buf[next.start + 5] !== 0x50 || next.buf[next.start + 6] !== 0)
      return null;
    next = at(++i);
  }
  if (next?.type !== Frontend.Execute || next.bodyLength !== 5 || next.buf[next.start + 5] !== 0) return null;
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
  for (const m of rest) total += m.end - m.start;
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
  for (const m of rest) pos += m.buf.copy(out, pos, m.start, m.end);
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
