// Recognises an extended-protocol round that can travel to one shard as the client's own bytes.
import crypto from 'node:crypto';
import { Frontend } from '../../protocol/codes.js';
import {
  readBind,
  readExecute,
  readParse,
  readTarget,
  type BindMessage,
  type ParseMessage,
} from '../../protocol/extended-messages.js';
import { MessageWriter } from '../../protocol/writer.js';
import { parseMessage } from './wire.js';

export interface ClientMessage {
  type: number;
  body: Buffer;
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
export function passRound(messages: readonly ClientMessage[], start: number): PassRound | null {
  const first = messages[start];
  let i = 0;
  const at = (k: number): ClientMessage | undefined => messages[start + k];
  let parse: ParseMessage | null = null;
  if (first.type === Frontend.Parse) {
    parse = readParse(first.body, 0);
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

/** The messages again with type and length, in one buffer, ready for a shard. */
export function roundBytes(first: ClientMessage, rest: readonly ClientMessage[]): Buffer {
  const all = [first, ...rest];
  const out = Buffer.allocUnsafe(all.reduce((n, m) => n + 5 + m.body.length, 0));
  let pos = 0;
  for (const m of all) {
    out[pos] = m.type;
    out.writeInt32BE(m.body.length + 4, pos + 1);
    m.body.copy(out, pos + 5);
    pos += 5 + m.body.length;
  }
  return out;
}

/** A Bind naming another statement: the portal name kept, everything after the statement name copied. */
export function renamedBind(body: Buffer, statement: string): Buffer {
  const portalEnd = body.indexOf(0);
  const statementEnd = body.indexOf(0, portalEnd + 1);
  return new MessageWriter(Frontend.Bind, body.length + 40)
    .bytes(body.subarray(0, portalEnd + 1))
    .cstring(statement)
    .bytes(body.subarray(statementEnd + 1))
    .finish();
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
