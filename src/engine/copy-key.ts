// Reads one field (the shard key) of a COPY row as PostgreSQL's COPY would, without splitting the others.
import { ProxyError } from '../errors.js';
import type { CopyFormat } from './copy-format.js';

const backslash = 0x5c;
const textEscapes: Record<number, number> = { 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9, 0x76: 11 };

/** The key field of rows in one COPY format; a row is `line` from `start` to `end`, without its line end. */
export class CopyKeyReader {
  private readonly nullBytes: Buffer;
  /** The next backslash (text) or quote (CSV) in the chunk: one search per chunk, not one to its end per row. */
  private readonly special: number;
  private cached: Buffer | null = null;
  private cachedFrom = 0;
  private cachedAt = 0;

  constructor(
    private readonly format: CopyFormat,
    private readonly keyIndex: number,
  ) {
    this.nullBytes = Buffer.from(format.nullString, 'utf8');
    this.special = format.csv ? format.quote : backslash;
  }

  /** A new chunk of data begins: a buffer object may be reused with new bytes in it. */
  forget(): void {
    this.cached = null;
  }

  /** The first special byte at or after `from` in `line` (line.length when there is none). */
  private nextSpecial(line: Buffer, from: number): number {
    if (line !== this.cached || from < this.cachedFrom || from > this.cachedAt) {
      const i = line.indexOf(this.special, from);
      this.cached = line;
      this.cachedAt = i < 0 ? line.length : i;
    }
    this.cachedFrom = from;
    return this.cachedAt;
  }

  read(line: Buffer, start: number, end: number): string | null {
    return this.format.csv ? this.csv(line, start, end) : this.text(line, start, end);
  }

  /** Text format: fields split at unescaped delimiters; NULL is the raw null string; backslash escapes decoded. */
  private text(line: Buffer, rowStart: number, rowEnd: number): string | null {
    let start = rowStart;
    for (let field = 0; field < this.keyIndex; field++) {
      const d = this.textDelimiter(line, start, rowEnd);
      // Too few fields: the shard PostgreSQL gets the row from says "missing data for column".
      if (d >= rowEnd) return null;
      start = d + 1;
    }
    const end = this.textDelimiter(line, start, rowEnd);
    if (this.isNull(line, start, end)) return null;
    if (this.nextSpecial(line, start) >= end) return line.toString('utf8', start, end);
    return unescapeText(line.subarray(start, end)).toString('utf8');
  }

  /** The next delimiter at or after `from` that no backslash escapes (`end` if none before it). */
  private textDelimiter(line: Buffer, from: number, end: number): number {
    let p = from;
    for (;;) {
      const d = line.indexOf(this.format.delimiter, p);
      const b = this.nextSpecial(line, p);
      if (b >= end || (d >= 0 && d < b)) return d < 0 || d > end ? end : d;
      p = b + 2;
    }
  }

  private isNull(line: Buffer, start: number, end: number): boolean {
    const n = this.nullBytes;
    if (end - start !== n.length) return false;
    for (let i = 0; i < n.length; i++) if (line[start + i] !== n[i]) return false;
    return true;
  }

  /** CSV: quoted parts may hold delimiters; NULL is the unquoted null string (FORCE_NULL / FORCE_NOT_NULL apply). */
  private csv(line: Buffer, rowStart: number, rowEnd: number): string | null {
    let start = rowStart;
    for (let field = 0; field < this.keyIndex; field++) {
      const end = this.csvFieldEnd(line, start, rowEnd);
      if (end >= rowEnd) return null;
      start = end + 1;
    }
    const end = this.csvFieldEnd(line, start, rowEnd);
    const { forceNull, forceNotNull } = this.format;
    if (this.nextSpecial(line, start) >= end) {
      return this.isNull(line, start, end) && !forceNotNull ? null : line.toString('utf8', start, end);
    }
    const value = this.unquote(line.subarray(start, end));
    return forceNull && value.equals(this.nullBytes) ? null : value.toString('utf8');
  }

  /** The delimiter ending the CSV field that starts at `from` (`end` for the last field). */
  private csvFieldEnd(line: Buffer, from: number, end: number): number {
    let p = from;
    for (;;) {
      const d = line.indexOf(this.format.delimiter, p);
      const q = this.nextSpecial(line, p);
      if (q >= end || (d >= 0 && d < q)) return d < 0 || d > end ? end : d;
      p = this.closingQuote(line, q + 1, end) + 1;
    }
  }

  /** The position of the quote that closes a quoted part whose first byte is at `from`. */
  private closingQuote(line: Buffer, from: number, end: number): number {
    const { quote, escape } = this.format;
    let p = from;
    for (;;) {
      const q = line.indexOf(quote, p);
      if (q < 0 || q >= end) throw new ProxyError('badCopyFileFormat', 'unterminated CSV quoted field');
      const e = escape === quote ? q : line.indexOf(escape, p);
      if (e >= 0 && e <= q && (line[e + 1] === quote || line[e + 1] === escape)) {
        p = e + 2;
        continue;
      }
      if (e >= 0 && e < q) {
        p = e + 1;
        continue;
      }
      return q;
    }
  }

  /** The value of a CSV field with quotes: unquoted parts as they are, quoted parts with their escapes. */
  private unquote(raw: Buffer): Buffer {
    const { quote, escape } = this.format;
    const out: number[] = [];
    let quoted = false;
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i];
      if (quoted && c === escape && i + 1 < raw.length && (raw[i + 1] === quote || raw[i + 1] === escape)) {
        out.push(raw[++i]);
      } else if (c === quote) quoted = !quoted;
      else out.push(c);
    }
    return Buffer.from(out);
  }
}

const isOctal = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x37;
const hexValue = (c: number | undefined) => {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
};

/** Text-format escapes as PostgreSQL reads them: \b \f \n \r \t \v, \ooo (octal), \xhh (hex), else the byte itself. */
function unescapeText(raw: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== backslash || i + 1 >= raw.length) {
      out.push(raw[i]);
      continue;
    }
    const c = raw[++i];
    if (isOctal(c)) {
      let v = c - 0x30;
      for (let k = 0; k < 2 && isOctal(raw[i + 1]); k++) v = v * 8 + raw[++i] - 0x30;
      out.push(v & 0xff);
    } else if (c === 0x78 && hexValue(raw[i + 1]) >= 0) {
      let v = hexValue(raw[++i]);
      if (hexValue(raw[i + 1]) >= 0) v = v * 16 + hexValue(raw[++i]);
      out.push(v);
    } else out.push(textEscapes[c] ?? c);
  }
  return Buffer.from(out);
}
