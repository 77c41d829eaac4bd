// Reads one field (the shard key) of a COPY row as PostgreSQL's COPY would, without splitting the others.
import { ProxyError } from '../errors.js';
import type { CopyFormat } from './copy-split.js';

const backslash = 0x5c;
const textEscapes: Record<number, number> = { 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9, 0x76: 11 };

/** The key field of rows in one COPY format; `line` is a row without its line end. */
export class CopyKeyReader {
  private readonly nullBytes: Buffer;

  constructor(
    private readonly format: CopyFormat,
    private readonly keyIndex: number,
  ) {
    this.nullBytes = Buffer.from(format.nullString, 'utf8');
  }

  read(line: Buffer): string | null {
    return this.format.csv ? this.csv(line) : this.text(line);
  }

  /** Text format: fields split at unescaped delimiters; NULL is the raw null string; backslash escapes decoded. */
  private text(line: Buffer): string | null {
    let start = 0;
    for (let field = 0; field < this.keyIndex; field++) {
      const d = this.textDelimiter(line, start);
      // Too few fields: the shard PostgreSQL gets the row from says "missing data for column".
      if (d >= line.length) return null;
      start = d + 1;
    }
    const end = this.textDelimiter(line, start);
    const raw = line.subarray(start, end);
    if (raw.equals(this.nullBytes)) return null;
    if (raw.indexOf(backslash) < 0) return raw.toString('utf8');
    return unescapeText(raw).toString('utf8');
  }

  /** The next delimiter at or after `from` that no backslash escapes (line.length if none). */
  private textDelimiter(line: Buffer, from: number): number {
    let p = from;
    for (;;) {
      const d = line.indexOf(this.format.delimiter, p);
      const b = line.indexOf(backslash, p);
      if (b < 0 || (d >= 0 && d < b)) return d < 0 ? line.length : d;
      p = b + 2;
    }
  }

  /** CSV: quoted parts may hold delimiters; NULL is the unquoted null string (FORCE_NULL / FORCE_NOT_NULL apply). */
  private csv(line: Buffer): string | null {
    let start = 0;
    for (let field = 0; field < this.keyIndex; field++) {
      const end = this.csvFieldEnd(line, start);
      if (end >= line.length) return null;
      start = end + 1;
    }
    const end = this.csvFieldEnd(line, start);
    const raw = line.subarray(start, end);
    const { quote, forceNull, forceNotNull } = this.format;
    if (raw.indexOf(quote) < 0) {
      return raw.equals(this.nullBytes) && !forceNotNull ? null : raw.toString('utf8');
    }
    const value = this.unquote(raw);
    return forceNull && value.equals(this.nullBytes) ? null : value.toString('utf8');
  }

  /** The delimiter ending the CSV field that starts at `from` (line.length for the last field). */
  private csvFieldEnd(line: Buffer, from: number): number {
    let p = from;
    for (;;) {
      const d = line.indexOf(this.format.delimiter, p);
      const q = line.indexOf(this.format.quote, p);
      if (q < 0 || (d >= 0 && d < q)) return d < 0 ? line.length : d;
      p = this.closingQuote(line, q + 1) + 1;
    }
  }

  /** The position of the quote that closes a quoted part whose first byte is at `from`. */
  private closingQuote(line: Buffer, from: number): number {
    const { quote, escape } = this.format;
    let p = from;
    for (;;) {
      const q = line.indexOf(quote, p);
      if (q < 0) throw new ProxyError('badCopyFileFormat', 'unterminated CSV quoted field');
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
