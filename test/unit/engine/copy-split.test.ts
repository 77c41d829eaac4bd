// COPY data is cut into rows at the right line ends and each row's key field is read as COPY would.
import { describe, expect, it } from 'vitest';
import { CopyRowSplitter, type CopyFormat } from '../../../src/engine/copy-split.js';

const base = { binary: false, header: false, quote: 34, escape: 34, forceNull: false, forceNotNull: false };
const text: CopyFormat = { ...base, csv: false, delimiter: 9, nullString: '\\N' };
const csv: CopyFormat = { ...base, csv: true, delimiter: 44, header: true, nullString: '' };

type Row = [string, string | null, boolean];

function split(format: CopyFormat, keyIndex: number, chunks: (string | Buffer)[]): Row[] {
  const s = new CopyRowSplitter(format, keyIndex);
  const out: Row[] = [];
  const emit = (b: Buffer, start: number, end: number, key: string | null, header: boolean) =>
    out.push([b.toString('utf8', start, end), key, header]);
  for (const c of chunks) s.feed(Buffer.from(c), emit);
  s.finish(emit);
  return out;
}

/** Every way to cut the data in two, and byte by byte: the rows must not depend on where chunks end. */
function cuts(data: string): string[][] {
  const b = Buffer.from(data);
  const out: string[][] = [[data], [...b].map((x) => String.fromCharCode(x))];
  for (let i = 1; i < b.length; i++)
    out.push([b.subarray(0, i).toString('latin1'), b.subarray(i).toString('latin1')]);
  return out;
}

/** The reference: PostgreSQL's text format read byte by byte, every field of a row decoded. */
function fullText(line: string, delimiter = '\t', nullString = '\\N'): (string | null)[] {
  const fields: (string | null)[] = [];
  let raw = '';
  let value = '';
  const close = () => fields.push(raw === nullString ? null : value);
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === delimiter) {
      close();
      raw = value = '';
    } else if (c === '\\' && i + 1 < line.length) {
      const e = line[++i];
      raw += c + e;
      if (/[0-7]/.test(e)) {
        let digits = e;
        while (digits.length < 3 && /[0-7]/.test(line[i + 1] ?? '')) digits += line[++i];
        raw += digits.slice(1);
        value += String.fromCharCode(parseInt(digits, 8));
      } else if (e === 'x' && /[0-9a-f]/i.test(line[i + 1] ?? '')) {
        let digits = line[++i];
        if (/[0-9a-f]/i.test(line[i + 1] ?? '')) digits += line[++i];
        raw += digits;
        value += String.fromCharCode(parseInt(digits, 16));
      } else value += { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }[e] ?? e;
    } else {
      raw += c;
      value += c;
    }
  }
  close();
  return fields;
}

/** The reference for CSV: quotes toggle, a doubled quote inside quotes is a quote, NULL only unquoted. */
function fullCsv(line: string): (string | null)[] {
  const fields: (string | null)[] = [];
  let value = '';
  let quoted = false;
  let sawQuote = false;
  for (let i = 0; i <= line.length; i++) {
    const c = line[i];
    if (i === line.length || (c === ',' && !quoted)) {
      fields.push(!sawQuote && value === '' ? null : value);
      value = '';
      sawQuote = false;
    } else if (c === '"' && quoted && line[i + 1] === '"') value += line[++i];
    else if (c === '"') {
      quoted = !quoted;
      sawQuote = true;
    } else value += c;
  }
  return fields;
}

describe('CopyRowSplitter', () => {
  it('reads text-format keys across chunk boundaries, with escapes and NULL', () => {
    expect(split(text, 1, ['a\t4', '2\n', 'b\\tc\t\\N\nx\ty\\\\z'])).toEqual([
      ['a\t42\n', '42', false],
      ['b\\tc\t\\N\n', null, false],
      ['x\ty\\\\z\n', 'y\\z', false],
    ]);
  });

  it('keeps quoted newlines inside CSV rows and passes the header on', () => {
    expect(split(csv, 0, ['id,note\n7,"two\nlines"\n"8",""\n,x\n'])).toEqual([
      ['id,note\n', null, true],
      ['7,"two\nlines"\n', '7', false],
      ['"8",""\n', '8', false],
      [',x\n', null, false],
    ]);
  });

  const textRows = [
    'a\\\tb\t17\tz\n', // an escaped delimiter before the key
    'a\\\\\t18\tz\n', // an escaped backslash, then a real delimiter
    'x\\\ny\t19\n', // a backslash before a newline: the newline is data
    'p\t\\061\\0622\n', // octal escapes in the key: "122"
    'q\t\\N\n', // NULL
    'r\t\\\\N\n', // a backslash and N, not NULL
    's\t2\\x30\n', // hex escape: "20"
    't\n', // too few fields
    '\t\t\n', // empty fields
  ];

  it('text format: the key of every tricky row matches a full parse, wherever the chunks are cut', () => {
    const data = textRows.join('');
    const expected = textRows.map((r) => fullText(r.slice(0, -1))[1] ?? null);
    for (const chunks of cuts(data)) {
      const rows = split(
        text,
        1,
        chunks.map((c) => Buffer.from(c, 'latin1')),
      );
      expect(rows.map((r) => r[0])).toEqual(textRows);
      expect(rows.map((r) => r[1])).toEqual(expected);
    }
    expect(expected.slice(0, 7)).toEqual(['17', '18', '19', '122', null, '\\N', '20']);
  });

  const csvRows = [
    'id,key,note\n',
    'a,"1,2",x\n', // a quoted delimiter in the key
    '"b,""c""",3,"multi\nline"\n', // doubled quotes and a delimiter in an earlier field, newline in a later one
    'c,"",y\n', // an empty quoted string is not NULL
    'd,,y\n', // an unquoted empty field is NULL
    'e,4"5"6,y\n', // quotes in the middle of a field
    '"f\r\n",7,z\n', // CR LF inside quotes is data
  ];

  it('CSV: the key of every tricky row matches a full parse, wherever the chunks are cut', () => {
    const data = csvRows.join('');
    const expected = csvRows.slice(1).map((r) => fullCsv(r.slice(0, -1))[1]);
    for (const chunks of cuts(data)) {
      const rows = split(
        csv,
        1,
        chunks.map((c) => Buffer.from(c, 'latin1')),
      );
      expect(rows.map((r) => r[0])).toEqual(csvRows);
      expect(rows.slice(1).map((r) => r[1])).toEqual(expected);
    }
    expect(expected).toEqual(['1,2', '3', '', null, '456', '7']);
  });

  it('CSV with another escape character, FORCE_NULL and FORCE_NOT_NULL', () => {
    const escaped = { ...csv, header: false, escape: 0x5c };
    expect(split(escaped, 1, ['"a\\"\n,b",k1\n']).map((r) => r[1])).toEqual(['k1']);
    expect(split(escaped, 1, ['x,"k\\"2"\n']).map((r) => r[1])).toEqual(['k"2']);
    expect(split({ ...csv, header: false, forceNull: true }, 0, ['"",1\n']).map((r) => r[1])).toEqual([null]);
    expect(split({ ...csv, header: false, forceNotNull: true }, 0, [',1\n']).map((r) => r[1])).toEqual(['']);
  });

  it('CRLF line ends: the CR is not part of the key', () => {
    for (const chunks of cuts('1\ta\r\n2\tb\r\n'))
      expect(split(text, 0, chunks).map((r) => [r[0], r[1]])).toEqual([
        ['1\ta\r\n', '1'],
        ['2\tb\r\n', '2'],
      ]);
    expect(split(text, 1, ['a\t7\r\n']).map((r) => r[1])).toEqual(['7']);
  });

  it('stops at the end-of-data line, as PostgreSQL ignores what follows', () => {
    expect(split(text, 0, ['1\n\\.\n2\n']).map((r) => r[0])).toEqual(['1\n']);
    expect(split(csv, 0, ['h\n"\\."\n\\.\n3\n']).map((r) => r[0])).toEqual(['h\n', '"\\."\n']);
  });

  it('refuses, as PostgreSQL does, data it cannot cut into rows the same way', () => {
    const refused = (format: CopyFormat, chunks: string[]) => {
      try {
        split(format, 0, chunks);
      } catch (err) {
        return (err as { sqlstate: string }).sqlstate;
      }
      return 'accepted';
    };
    expect(refused(text, ['1\r2\n'])).toBe('22P04'); // a bare CR
    expect(refused(text, ['1\n2\r\n'])).toBe('22P04'); // line ends change
    expect(refused(text, ['1\r\n2\n'])).toBe('22P04');
    expect(refused(text, ['1\r'])).toBe('22P04');
    expect(refused(text, ['\\.x\n'])).toBe('22P04');
    expect(refused({ ...csv, header: false }, ['"1\n'])).toBe('22P04');
  });
});
