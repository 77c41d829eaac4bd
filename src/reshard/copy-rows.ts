// COPY text rows split by shard key: lines cut from a COPY TO stream, and the key field of a line decoded.

const tab = 0x09;
const newline = 0x0a;
const backslash = 0x5c;
const escapes: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Whole lines (with their newline) from chunks that may end mid-line; keeps the rest for the next chunk. */
export class LineSplitter {
  private rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: Buffer[] = [];
    let start = 0;
    for (let at = data.indexOf(newline); at >= 0; at = data.indexOf(newline, start)) {
      lines.push(data.subarray(start, at + 1));
      start = at + 1;
    }
    this.rest = Buffer.from(data.subarray(start));
    return lines;
  }

  /** True when a partial line is left over: the stream ended inside a row. */
  get pending(): boolean {
    return this.rest.length > 0;
  }
}

/**
 * Field `index` of a COPY text line in PostgreSQL's text form, null for \N. Tabs and newlines inside values
 * are escaped, so the raw tab bytes separate fields exactly.
 */
export function fieldOf(line: Buffer, index: number): string | null {
  let start = 0;
  for (let i = 0; i < index; i++) {
    const at = line.indexOf(tab, start);
    if (at < 0) throw new Error(`COPY row has no field ${index}`);
    start = at + 1;
  }
  let end = line.indexOf(tab, start);
  if (end < 0) end = line[line.length - 1] === newline ? line.length - 1 : line.length;
  const raw = line.subarray(start, end);
  if (raw.length === 2 && raw[0] === backslash && raw[1] === 0x4e) return null;
  const text = raw.toString('utf8');
  return raw.includes(backslash) ? unescape(text) : text;
}

function unescape(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, code: string) => {
    if (code[0] === 'x') return String.fromCharCode(parseInt(code.slice(1), 16));
    if (/^[0-7]/.test(code)) return String.fromCharCode(parseInt(code, 8));
    return escapes[code] ?? code;
  });
}
