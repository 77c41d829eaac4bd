// Literal-free text of a statement, so the classifier can cache by query shape instead of raw text.
import { skipBlockComment, skipLineComment } from './sql-lexer.js';

/** What every literal becomes. `?` is also a PostgreSQL operator character, but literals never decide routing. */
export const SHAPE_PLACEHOLDER = '?';

const QUOTE = 0x27;
const DQUOTE = 0x22;
const DOLLAR = 0x24;
const DOT = 0x2e;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const BACKSLASH = 0x5c;
const UNDERSCORE = 0x5f;

/** What kind of literal a span holds: a number, a '...' string, an E'...' string or a dollar-quoted string. */
export type LiteralKind = 'number' | 'string' | 'escape-string' | 'dollar';

/**
 * Replaces numeric and string literals with `?` in one pass, following PostgreSQL's lexer so token
 * boundaries match the server's: identifiers (with their digits), "quoted identifiers", `$1`
 * parameters, operators and comments stay as written. A malformed literal (unterminated, or a number
 * with trailing junk) is left as written, so no valid statement shares its shape.
 */
export function sqlShape(sql: string): string {
  let out = '';
  let copied = 0;
  scanLiterals(sql, (start, end) => {
    out += sql.slice(copied, start) + SHAPE_PLACEHOLDER;
    copied = end;
  });
  return copied === 0 ? sql : out + sql.slice(copied);
}

/**
 * Calls `onLiteral` for every literal of the text, in order, with its span and kind. The scan stops at an
 * unterminated literal, which swallows the rest of the text as it does in PostgreSQL.
 */
export function scanLiterals(
  sql: string,
  onLiteral: (start: number, end: number, kind: LiteralKind) => void,
): void {
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    const start = i;
    let end: number;
    let kind: LiteralKind;
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentCont(sql.charCodeAt(i))) i++;
      // E'...' takes backslash escapes, so `\'` does not end it; only a lone E or e prefix counts.
      if (i - start !== 1 || (c !== 0x45 && c !== 0x65) || sql.charCodeAt(i) !== QUOTE) continue;
      end = stringEnd(sql, i, true);
      kind = 'escape-string';
    } else if (c === QUOTE) {
      end = stringEnd(sql, i, false);
      kind = 'string';
    } else if (isDigit(c) || (c === DOT && isDigit(sql.charCodeAt(i + 1)))) {
      end = numberEnd(sql, i);
      kind = 'number';
      // PostgreSQL rejects 1abc, 1e+ and 0x as trailing junk: keep the text so no valid SQL shares the shape.
      if (isIdentStart(sql.charCodeAt(end))) {
        i = end;
        continue;
      }
    } else if (c === DOLLAR) {
      const tagEnd = dollarTagEnd(sql, i);
      if (tagEnd < 0) {
        i = skipParameter(sql, i);
        continue;
      }
      const delimiter = sql.slice(i, tagEnd + 1);
      const close = sql.indexOf(delimiter, tagEnd + 1);
      end = close < 0 ? -1 : close + delimiter.length;
      kind = 'dollar';
    } else if (c === DQUOTE) {
      i = quotedIdentifierEnd(sql, i);
      continue;
    } else if (c === DASH && sql.charCodeAt(i + 1) === DASH) {
      i = skipLineComment(sql, i);
      continue;
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      i = skipBlockComment(sql, i);
      continue;
    } else {
      i++;
      continue;
    }
    // An unterminated literal swallows the rest of the text, as it does in PostgreSQL: keep it verbatim.
    if (end < 0) return;
    onLiteral(start, end, kind);
    i = end;
  }
}

// The character classes stay in this module: the scanner calls them per character, and keeping them
// local lets V8 inline them even where a test runner rewrites imports into property lookups.

/** [A-Za-z_] or any non-ASCII code unit: PostgreSQL treats every high byte as an identifier letter. */
function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c >= 0x80;
}

/** Identifier letters, digits and `$`, which is why `t1` and `a$b` hold no literal or dollar quote. */
function isIdentCont(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === DOLLAR;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** End of a '...' or E'...' string, with PostgreSQL's newline continuation ('a'\n'b' is one literal); -1 if unterminated. */
function stringEnd(sql: string, quote: number, escapes: boolean): number {
  const n = sql.length;
  let j = quote + 1;
  for (;;) {
    while (j < n) {
      const c = sql.charCodeAt(j);
      if (c === BACKSLASH && escapes) j += 2;
      else if (c !== QUOTE) j++;
      else if (sql.charCodeAt(j + 1) === QUOTE) j += 2;
      else break;
    }
    if (j >= n) return -1;
    const next = continuationQuote(sql, j + 1);
    if (next < 0) return j + 1;
    j = next + 1;
  }
}

/** Index of the quote that continues a string after whitespace containing a newline, or -1. */
function continuationQuote(sql: string, from: number): number {
  const n = sql.length;
  let k = from;
  while (k < n && isHorizontalSpace(sql.charCodeAt(k))) k++;
  if (!isNewline(sql.charCodeAt(k))) return -1;
  k++;
  while (k < n) {
    const c = sql.charCodeAt(k);
    if (isHorizontalSpace(c) || isNewline(c)) k++;
    else if (c === DASH && sql.charCodeAt(k + 1) === DASH) {
      k = skipLineComment(sql, k);
      if (k >= n) return -1;
    } else break;
  }
  return sql.charCodeAt(k) === QUOTE ? k : -1;
}

function isHorizontalSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0c || c === 0x0b;
}

function isNewline(c: number): boolean {
  return c === 0x0a || c === 0x0d;
}

/** End of a numeric literal (decimal with `_` separators, 0x/0o/0b, fraction, exponent); stops before anything malformed. */
function numberEnd(sql: string, i: number): number {
  const radix = sql.charCodeAt(i) === 0x30 ? radixOf(sql.charCodeAt(i + 1)) : 0;
  if (radix) {
    const j = digits(sql, i + 2, radix, true);
    return j === i + 2 ? i + 1 : j;
  }
  let j = sql.charCodeAt(i) === DOT ? i : digits(sql, i, 10, false);
  // 1..5 is the integer 1 followed by `..`, as PostgreSQL lexes it for PL/pgSQL ranges.
  if (sql.charCodeAt(j) === DOT && sql.charCodeAt(j + 1) !== DOT) {
    j++;
    if (isDigit(sql.charCodeAt(j))) j = digits(sql, j, 10, false);
  }
  const e = sql.charCodeAt(j);
  if (e !== 0x45 && e !== 0x65) return j;
  let k = j + 1;
  const sign = sql.charCodeAt(k);
  if (sign === 0x2b || sign === DASH) k++;
  return isDigit(sql.charCodeAt(k)) ? digits(sql, k, 10, false) : j;
}

function radixOf(c: number): number {
  if (c === 0x78 || c === 0x58) return 16;
  if (c === 0x6f || c === 0x4f) return 8;
  if (c === 0x62 || c === 0x42) return 2;
  return 0;
}

/** End of a digit run where one `_` may separate digits; with a prefix (0x_1) it may also lead. */
function digits(sql: string, j: number, radix: number, leadingUnderscore: boolean): number {
  const n = sql.length;
  let first = true;
  while (j < n) {
    const c = sql.charCodeAt(j);
    if (isRadixDigit(c, radix)) j++;
    else if (c === UNDERSCORE && (!first || leadingUnderscore) && isRadixDigit(sql.charCodeAt(j + 1), radix))
      j += 2;
    else break;
    first = false;
  }
  return j;
}

function isRadixDigit(c: number, radix: number): boolean {
  if (radix === 16) return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
  return c >= 0x30 && c < 0x30 + radix;
}

function quotedIdentifierEnd(sql: string, i: number): number {
  const n = sql.length;
  let j = i + 1;
  while (j < n) {
    if (sql.charCodeAt(j) !== DQUOTE) j++;
    else if (sql.charCodeAt(j + 1) === DQUOTE) j += 2;
    else return j + 1;
  }
  return n;
}

/** Index of the `$` closing a dollar-quote opener ($$ or $tag$) at i, or -1 when `$` opens none. */
function dollarTagEnd(sql: string, i: number): number {
  let j = i + 1;
  if (sql.charCodeAt(j) === DOLLAR) return j;
  if (!isIdentStart(sql.charCodeAt(j))) return -1;
  while (j < sql.length && sql.charCodeAt(j) !== DOLLAR && isIdentCont(sql.charCodeAt(j))) j++;
  return sql.charCodeAt(j) === DOLLAR ? j : -1;
}

/** Skips a `$1` parameter whole (its digits are not a literal) or a lone `$`. */
function skipParameter(sql: string, i: number): number {
  let j = i + 1;
  while (j < sql.length && isDigit(sql.charCodeAt(j))) j++;
  return j;
}
