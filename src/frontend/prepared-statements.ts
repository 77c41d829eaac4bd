// A client's named prepared statements, renamed so any pooled server connection can run them.
//
// A statement's server-side name is a hash of its text and parameter types, so clients preparing the
// same statement share one server-side copy per connection, and two clients' names never clash.
import crypto from 'node:crypto';
import { Frontend } from '../protocol/codes.js';
import type { StatementInfo } from '../router/classify.js';

export interface ClientStatement {
  serverName: string;
  /** The client's Parse with the server-side name, sent to connections that lack the statement. */
  parse: Buffer;
  /** How the router classified the statement, once, at Parse. */
  info: StatementInfo | null;
  /** The schema generation it was parsed in (see SharedStatements). */
  generation: number;
}

/** Reads the NUL-terminated string at `pos`; returns its end (the NUL) or -1 when it runs past `end`. */
export function cstringEnd(buf: Buffer, pos: number, end: number): number {
  const zero = buf.indexOf(0, pos);
  return zero < 0 || zero >= end ? -1 : zero;
}

/** Builds `type + len + head + name\0 + tail` where head and tail are byte ranges of the original. */
function withName(type: number, head: Buffer, name: string, tail: Buffer): Buffer {
  const nameLen = Buffer.byteLength(name);
  const out = Buffer.allocUnsafe(5 + head.length + nameLen + 1 + tail.length);
  out[0] = type;
  out.writeInt32BE(out.length - 1, 1);
  head.copy(out, 5);
  let pos = 5 + head.length;
  pos += out.write(name, pos, 'utf8');
  out[pos++] = 0;
  tail.copy(out, pos);
  return out;
}

export class PreparedStatements {
  private byName = new Map<string, ClientStatement>();

  get size(): number {
    return this.byName.size;
  }

  get(name: string): ClientStatement | undefined {
    return this.byName.get(name);
  }

  /** Records a named Parse (nameEnd is the NUL after its name) and returns its renamed form. */
  define(
    name: string,
    buf: Buffer,
    start: number,
    nameEnd: number,
    end: number,
    info: StatementInfo | null = null,
    generation = 0,
  ): ClientStatement {
    const tail = buf.subarray(nameEnd + 1, end);
    const hash = crypto.createHash('sha1').update(tail).digest('base64url').slice(0, 24);
    // A schema change starts a generation: statements parsed since get copies of their own, while older
    // clients keep theirs (PostgreSQL then tells them when their statement's result type changed).
    const serverName = generation === 0 ? `pp_${hash}` : `pp_${hash}_${generation}`;
    const parse = withName(Frontend.Parse, Buffer.alloc(0), serverName, tail);
    const stmt = { serverName, parse, info, generation };
    this.byName.set(name, stmt);
    return stmt;
  }

  /** Forgets a statement, unless the name was redefined since. */
  forget(name: string, stmt?: ClientStatement): void {
    if (!stmt || this.byName.get(name) === stmt) this.byName.delete(name);
  }

  clear(): void {
    this.byName.clear();
  }

  entries(): IterableIterator<[string, ClientStatement]> {
    return this.byName.entries();
  }
}

/** A client's Parse sent under another statement name. */
export function renameParse(buf: Buffer, nameEnd: number, end: number, name: string): Buffer {
  return withName(Frontend.Parse, Buffer.alloc(0), name, buf.subarray(nameEnd + 1, end));
}

/** Bind with the statement name replaced: portal name kept, everything after the name copied. */
export function renameBind(
  buf: Buffer,
  start: number,
  portalEnd: number,
  stmtEnd: number,
  end: number,
  name: string,
): Buffer {
  return withName(
    Frontend.Bind,
    buf.subarray(start + 5, portalEnd + 1),
    name,
    buf.subarray(stmtEnd + 1, end),
  );
}

/** Describe or Close of a statement ('S'), with the name replaced. */
export function renameTarget(type: number, name: string): Buffer {
  return withName(type, Buffer.from([0x53]), name, Buffer.alloc(0));
}

/** Name of the empty statement whose Parse answers ParseComplete in place of one the server already has. */
const standInName = 'pp_standin';

/**
 * Stand-in for a Parse the server connection already has: close the previous stand-in (its reply is
 * hidden), then prepare an empty statement under the stand-in name, whose ParseComplete the client gets.
 * The client's unnamed statement is left alone.
 */
export const standInClose = renameTarget(Frontend.Close, standInName);
export const standInParse = withName(Frontend.Parse, Buffer.alloc(0), standInName, Buffer.from([0, 0, 0]));

/** Close of a statement no server has: answers CloseComplete for a client statement we only forget. */
export const noopClose = renameTarget(Frontend.Close, 'pp_closed');
