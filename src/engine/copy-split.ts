// Cuts COPY FROM STDIN data (text or CSV) into rows where PostgreSQL would, and reads each row's shard key.
import { ProxyError } from '../errors.js';
import type { CopyFormat } from './copy-format.js';
import { CopyKeyReader } from './copy-key.js';

export { copyFormatOf, type CopyFormat } from './copy-format.js';

const newline = 0x0a;
const carriageReturn = 0x0d;
const backslash = 0x5c;
const dot = 0x2e;

/**
 * Receives each complete row: `chunk` from `start` to `end` holds its bytes (with the line end), valid only
 * during the call (no Buffer per row: that cost more than finding the row); its key text; whether it is the header.
 */
export type RowSink = (
  chunk: Buffer,
  start: number,
  end: number,
  key: string | null,
  header: boolean,
) => void;

const badFormat = (message: string, hint?: string) => new ProxyError('badCopyFileFormat', message, hint);

/**
 * Finds row ends with Buffer.indexOf (no loop per byte): in text format a backslash escapes the byte after it
 * (a newline too), in CSV a newline inside quotes is data. As PostgreSQL, the first row's line end (LF or CRLF)
 * is the one every row must use, and a line `\.` ends the data.
 */
export class CopyRowSplitter {
  private pending: Buffer[] = [];
  private headerLeft: boolean;
  private ended = false;
  /** Carried across chunks: the next byte is escaped (text), we are inside quotes (CSV), a CR ended the chunk. */
  private escaped = false;
  private inQuote = false;
  private crPending = false;
  /** The line end of the first row: 1 for LF, 2 for CRLF, 0 before the first row. */
  private eol = 0;
  private readonly special: number;
  private readonly keys: CopyKeyReader;

  constructor(
    private readonly format: CopyFormat,
    private readonly keyIndex: number,
  ) {
    this.headerLeft = format.header;
    this.special = format.csv ? format.quote : backslash;
    this.keys = new CopyKeyReader(format, keyIndex);
  }

  /** Calls `row` for each complete row; throws a ProxyError (22P04) where PostgreSQL would refuse the data. */
  feed(data: Buffer, row: RowSink): void {
    let start = 0;
    let pos = 0;
    const n = data.length;
    if (this.ended) return;
    this.keys.forget();
    if (this.crPending) {
      this.crPending = false;
      if (data[0] !== newline) throw this.bareCarriageReturn();
      this.pending.push(data.subarray(0, 1));
      const joined = this.takePending();
      this.emit(joined, 0, joined.length, 2, row);
      start = pos = 1;
    }
    if (this.escaped && !this.format.csv && pos < n) {
      this.escaped = false;
      pos++;
    }
    let nextSpecial = this.find(data, this.special, pos);
    let nextNl = this.find(data, newline, pos);
    let nextCr = this.find(data, carriageReturn, pos);
    while (pos < n && !this.ended) {
      if (this.inQuote) {
        pos = this.skipQuoted(data, pos);
        if (pos >= n) break;
        if (nextSpecial < pos) nextSpecial = this.find(data, this.special, pos);
        if (nextNl < pos) nextNl = this.find(data, newline, pos);
        if (nextCr < pos) nextCr = this.find(data, carriageReturn, pos);
      }
      const end = Math.min(nextNl, nextCr);
      if (nextSpecial < end) {
        pos = this.special === backslash ? this.afterBackslash(data, nextSpecial, start) : nextSpecial + 1;
        if (this.special !== backslash) this.inQuote = true;
        nextSpecial = this.find(data, this.special, pos);
        if (nextNl < pos) nextNl = this.find(data, newline, pos);
        if (nextCr < pos) nextCr = this.find(data, carriageReturn, pos);
        continue;
      }
      if (end >= n) break;
      let eolLength = 1;
      if (end === nextCr) {
        if (end + 1 >= n) {
          this.pending.push(Buffer.from(data.subarray(start, n)));
          this.crPending = true;
          return;
        }
        if (data[end + 1] !== newline) throw this.bareCarriageReturn();
        eolLength = 2;
        nextCr = this.find(data, carriageReturn, end + 2);
      }
      const stop = end + (eolLength === 2 ? 2 : 1);
      if (this.pending.length > 0) {
        const joined = this.joinPending(data.subarray(start, stop));
        this.emit(joined, 0, joined.length, eolLength, row);
      } else this.emit(data, start, stop, eolLength, row);
      start = pos = stop;
      nextNl = this.find(data, newline, pos);
    }
    if (start < n && !this.ended) this.pending.push(Buffer.from(data.subarray(start, n)));
  }

  /** The last row, when the data did not end with a line end. */
  finish(row: RowSink): void {
    if (this.crPending) throw this.bareCarriageReturn();
    if (this.pending.length === 0 || this.ended) return;
    if (this.format.csv && this.inQuote) throw badFormat('unterminated CSV quoted field');
    this.keys.forget();
    const bytes = Buffer.concat([this.takePending(), Buffer.from(this.eol === 2 ? '\r\n' : '\n')]);
    this.emit(bytes, 0, bytes.length, this.eol || 1, row);
  }

  private find(data: Buffer, byte: number, from: number): number {
    const i = data.indexOf(byte, from);
    return i < 0 ? data.length : i;
  }

  /** Text format: the position after a backslash and the byte it escapes; `\.` only as a whole line. */
  private afterBackslash(data: Buffer, at: number, start: number): number {
    if (at + 1 >= data.length) {
      this.escaped = true;
      return data.length;
    }
    if (data[at + 1] === dot && (at > start || this.pending.length > 0)) {
      throw badFormat('end-of-copy marker "\\." inside a row is not supported on a sharded table');
    }
    return at + 2;
  }

  /** CSV inside quotes: the position after the closing quote (data.length if it is in a later chunk). */
  private skipQuoted(data: Buffer, pos: number): number {
    const { quote, escape } = this.format;
    let p = pos;
    if (this.escaped) {
      this.escaped = false;
      if (data[p] === quote || data[p] === escape) p++;
    }
    for (;;) {
      const q = data.indexOf(quote, p);
      const e = escape === quote ? -1 : data.indexOf(escape, p);
      if (e >= 0 && (q < 0 || e < q)) {
        if (e + 1 >= data.length) {
          this.escaped = true;
          return data.length;
        }
        p = data[e + 1] === quote || data[e + 1] === escape ? e + 2 : e + 1;
        continue;
      }
      if (q < 0) return data.length;
      // As PostgreSQL, a quote toggles: a doubled quote closes and reopens, wherever the chunks are cut.
      this.inQuote = false;
      return q + 1;
    }
  }

  private joinPending(last: Buffer): Buffer {
    this.pending.push(last);
    return this.takePending();
  }

  private takePending(): Buffer {
    const bytes = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    return bytes;
  }

  private bareCarriageReturn(): ProxyError {
    return badFormat('literal carriage return found in data', 'Use "\\r" to represent carriage return.');
  }

  private emit(data: Buffer, start: number, stop: number, eolLength: number, row: RowSink): void {
    if (this.eol === 0) this.eol = eolLength;
    else if (this.eol !== eolLength)
      throw eolLength === 2
        ? this.bareCarriageReturn()
        : badFormat('literal newline found in data', 'Use "\\n" to represent newline.');
    const end = stop - eolLength;
    if (end - start >= 2 && data[start] === backslash && data[start + 1] === dot) {
      if (end - start > 2 && !this.format.csv) throw badFormat('end-of-copy marker corrupt');
      if (end - start === 2) {
        this.ended = true;
        return;
      }
    }
    if (this.headerLeft) {
      this.headerLeft = false;
      row(data, start, stop, null, true);
      return;
    }
    row(data, start, stop, this.keyIndex < 0 ? null : this.keys.read(data, start, end), false);
  }
}
