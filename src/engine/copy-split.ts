// Splits COPY FROM STDIN data (text or CSV) into rows and reads each row's shard key.
import type { Node } from '../router/sharding/ast-values.js';

export interface CopyFormat {
  csv: boolean;
  delimiter: number;
  header: boolean;
  nullString: string;
  quote: number;
}

/** The format options of a COPY statement, as far as row boundaries and the key field depend on them. */
export function copyFormatOf(copy: Node): CopyFormat {
  const options = new Map<string, string>();
  for (const o of (copy.options as Node[] | undefined) ?? []) {
    const d = o.DefElem as Node;
    const arg = d.arg as Node | undefined;
    const value =
      (arg?.String as Node | undefined)?.sval ??
      (arg?.Boolean as Node | undefined)?.boolval ??
      (arg ? 'true' : 'true');
    options.set(String(d.defname), String(value));
  }
  const csv = options.get('format')?.toLowerCase() === 'csv';
  const delimiter = options.get('delimiter') ?? (csv ? ',' : '\t');
  const header = ['true', 'on', '1', 'match'].includes(options.get('header')?.toLowerCase() ?? 'false');
  return {
    csv,
    delimiter: delimiter.charCodeAt(0),
    header,
    nullString: options.get('null') ?? (csv ? '' : '\\N'),
    quote: (options.get('quote') ?? '"').charCodeAt(0),
  };
}

const newline = 0x0a;
const backslash = 0x5c;

export class CopyRowSplitter {
  private pending: Buffer[] = [];
  private inQuote = false;
  private headerLeft: boolean;

  constructor(
    private readonly format: CopyFormat,
    private readonly keyIndex: number,
  ) {
    this.headerLeft = format.header;
  }

  /** Calls `row` for each complete row: its bytes (with the newline), its key text, and whether it is the header. */
  feed(data: Buffer, row: (bytes: Buffer, key: string | null, header: boolean) => void): void {
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      const b = data[i];
      if (this.format.csv && b === this.format.quote) this.inQuote = !this.inQuote;
      else if (b === newline && !this.inQuote) {
        this.pending.push(data.subarray(start, i + 1));
        this.emit(Buffer.concat(this.pending), row);
        this.pending = [];
        start = i + 1;
      }
    }
    if (start < data.length) this.pending.push(Buffer.from(data.subarray(start)));
  }

  /** The last row, when the data did not end with a newline. */
  finish(row: (bytes: Buffer, key: string | null, header: boolean) => void): void {
    if (this.pending.length === 0) return;
    this.emit(Buffer.concat([...this.pending, Buffer.from('\n')]), row);
    this.pending = [];
  }

  private emit(bytes: Buffer, row: (bytes: Buffer, key: string | null, header: boolean) => void): void {
    const text = bytes.toString('utf8').replace(/\r?\n$/, '');
    if (text === '\\.') return;
    if (this.headerLeft) {
      this.headerLeft = false;
      row(bytes, null, true);
      return;
    }
    row(bytes, this.format.csv ? this.csvField(text) : this.textField(text), false);
  }

  private textField(line: string): string | null {
    const fields = line.split(String.fromCharCode(this.format.delimiter));
    const raw = fields[this.keyIndex];
    if (raw === undefined || raw === this.format.nullString) return null;
    let out = '';
    for (let i = 0; i < raw.length; i++) {
      if (raw.charCodeAt(i) !== backslash || i + 1 >= raw.length) {
        out += raw[i];
        continue;
      }
      const c = raw[++i];
      out += ({ t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v' } as Record<string, string>)[c] ?? c;
    }
    return out;
  }

  private csvField(line: string): string | null {
    const q = String.fromCharCode(this.format.quote);
    const d = String.fromCharCode(this.format.delimiter);
    let field = 0;
    let i = 0;
    while (i <= line.length) {
      let value = '';
      let quoted = false;
      if (line[i] === q) {
        quoted = true;
        i++;
        while (i < line.length) {
          if (line[i] === q) {
            if (line[i + 1] === q) {
              value += q;
              i += 2;
              continue;
            }
            i++;
            break;
          }
          value += line[i++];
        }
      }
      while (i < line.length && line[i] !== d) value += line[i++];
      if (field === this.keyIndex) return !quoted && value === this.format.nullString ? null : value;
      field++;
      i++;
    }
    return null;
  }
}
