// A Query shaped like the session's last one: its template found by comparing the text around its numbers.
//
// Clients repeat one statement with other numbers in it (`… WHERE aid = 17`, then `… = 42`). Scanning each
// text for literals costs several times the rest of its routing; when the text is the last template's text
// with other digits where its numbers stood, it has that template with those digits as values.
import type { Template } from '../../router/sharding/route-templates.js';

/**
 * Characters that end a number token whatever its digits: a template's gaps must start with one, so the
 * new digits cannot lex differently from the old ones (no `.`, letter or digit that would join them).
 */
const numberEnd = new Set([
  ' ',
  '\t',
  '\n',
  '\r',
  ';',
  ')',
  ',',
  ':',
  ']',
  '=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
]);

const isDigit = (c: number) => c >= 48 && c <= 57;

export class TemplateShape {
  private last: Template | null = null;
  /** The last template's text around its numbers: gaps[k] precedes $k+1, the last gap ends the text. */
  private gaps: string[] | null = null;

  /** The template of `sql` when it is the last template's text with other digits in its numbers' places. */
  match(sql: string): Template | null {
    const gaps = this.gaps;
    if (!gaps) return null;
    const values: string[] = [];
    let at = 0;
    for (let k = 0; k < gaps.length; k++) {
      const gap = gaps[k];
      if (!sql.startsWith(gap, at)) return null;
      at += gap.length;
      if (k === gaps.length - 1) break;
      const start = at;
      while (at < sql.length && isDigit(sql.charCodeAt(at))) at++;
      if (at === start) return null;
      values.push(sql.slice(start, at));
    }
    if (at !== sql.length) return null;
    return { key: this.last!.key, text: this.last!.text, values };
  }

  /** Keeps a template found by scanning, when it lifted only integers each followed by a number's end. */
  remember(t: Template): void {
    if (t === this.last || t.key === this.last?.key) return;
    this.last = t;
    this.gaps = shapeOf(t);
  }
}

function shapeOf(t: Template): string[] | null {
  // Kinds come first in the key, one letter per value: 'i' for an integer.
  const kinds = t.key.slice(0, t.values.length);
  if (kinds !== 'i'.repeat(t.values.length) || t.key[t.values.length] !== '\n') return null;
  const gaps = t.text.split(/\$[0-9]+/);
  if (gaps.length !== t.values.length + 1) return null;
  for (let k = 1; k < gaps.length; k++) {
    const gap = gaps[k];
    const endsText = k === gaps.length - 1 && gap === '';
    if (!endsText && !numberEnd.has(gap[0] ?? '')) return null;
  }
  return gaps;
}
