// COPY data is cut into rows at the right newlines and each row's key field is read as COPY would.
import { describe, expect, it } from 'vitest';
import { CopyRowSplitter, type CopyFormat } from '../../../src/engine/copy-split.js';

const text: CopyFormat = { csv: false, delimiter: 9, header: false, nullString: '\\N', quote: 34 };
const csv: CopyFormat = { csv: true, delimiter: 44, header: true, nullString: '', quote: 34 };

function split(format: CopyFormat, keyIndex: number, chunks: string[]): [string, string | null, boolean][] {
  const s = new CopyRowSplitter(format, keyIndex);
  const out: [string, string | null, boolean][] = [];
  const emit = (b: Buffer, key: string | null, header: boolean) => out.push([b.toString(), key, header]);
  for (const c of chunks) s.feed(Buffer.from(c), emit);
  s.finish(emit);
  return out;
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
});
