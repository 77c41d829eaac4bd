// Comment rules of PostgreSQL's lexer, shared by the router's text scanners.

/** End of a `--` comment: the next newline or the end of the text. */
export function skipLineComment(sql: string, i: number): number {
  let j = i + 2;
  while (j < sql.length) {
    const c = sql.charCodeAt(j);
    if (c === 0x0a || c === 0x0d) break;
    j++;
  }
  return j;
}

/** End of a `/* ... *\/` comment; they nest in PostgreSQL, so `/* a /* b *\/ c *\/` is one comment. */
export function skipBlockComment(sql: string, i: number): number {
  const n = sql.length;
  let depth = 1;
  let j = i + 2;
  while (j < n) {
    const c = sql.charCodeAt(j);
    if (c === 0x2f && sql.charCodeAt(j + 1) === 0x2a) {
      depth++;
      j += 2;
    } else if (c === 0x2a && sql.charCodeAt(j + 1) === 0x2f) {
      j += 2;
      if (--depth === 0) return j;
    } else j++;
  }
  return n;
}
