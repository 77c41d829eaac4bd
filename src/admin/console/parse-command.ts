// Splits an admin console query into commands and their words: `show pools;` -> { words: [SHOW, POOLS] }.

export interface ParsedCommand {
  /** Upper-cased keywords and arguments as written (a double-quoted name keeps its case). */
  words: string[];
  /** The same words, upper-cased, for matching command names. */
  keys: string[];
}

function unquote(word: string): string {
  return word.length >= 2 && word.startsWith('"') && word.endsWith('"')
    ? word.slice(1, -1).replace(/""/g, '"')
    : word;
}

/** Statements are separated by `;`; empty ones are dropped (psql's trailing `;` included). */
export function parseCommands(query: string): ParsedCommand[] {
  return query
    .split(';')
    .map((part) => part.replace(/--[^\n]*/g, '').trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const words = (part.match(/"(?:[^"]|"")*"|[^\s"]+/g) ?? []).map(unquote);
      return { words, keys: words.map((w) => w.toUpperCase()) };
    });
}
