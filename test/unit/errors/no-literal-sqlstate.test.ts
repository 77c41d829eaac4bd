// Every SQLSTATE the proxy answers comes from the registry in src/errors.ts: no source file spells one out.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Registries themselves, and the sandbox (it launches servers; it answers no client). */
const registries = [/^src\/errors\.ts$/, /^src\/plugins\/builtin\/[^/]+\/errors\.ts$/, /^src\/sandbox\//];

/**
 * A five-character SQLSTATE (a digit, then digits or capitals) as a string of its own ('42P01', "0A000",
 * `08006`): after an operator, an arrow, a bracket, a comma, `return` or `case`, so not a value inside SQL text.
 */
const literal = /(?:^|[(,=:?[{!&|>]|\breturn|\bcase)\s*((['"`])[0-9][0-9A-Z]{4}\2)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Each line of `text` with a literal SQLSTATE, as `file:line: literal`. */
function literalSqlstates(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, i) => {
    const found = [...line.matchAll(literal)].map((m) => m[1]);
    return found.length > 0 ? [`${file}:${i + 1}: ${found.join(' ')}`] : [];
  });
}

function checked(file: string): boolean {
  return !registries.some((r) => r.test(file));
}

describe('SQLSTATEs come from the error registry', () => {
  it('finds a literal SQLSTATE in any quoting, and not other five-character strings', () => {
    const text = [
      "throw StatementError.of('42601', 'x');",
      'const s = "0A000";',
      'sqlstate: `25P02`,',
      "if (e.sqlstate === '23505' || e.sqlstate !== '40001') return '57014';",
      "    '22003',",
      'const code = (e: Error) => "57P01";',
      "const port = '6432'; const name = 'abcde'; const hex = 'ff00a';",
      'const options = "fetch_size \'10000\'";',
    ].join('\n');
    expect(literalSqlstates('f.ts', text)).toEqual([
      "f.ts:1: '42601'",
      'f.ts:2: "0A000"',
      'f.ts:3: `25P02`',
      "f.ts:4: '23505' '40001' '57014'",
      "f.ts:5: '22003'",
      'f.ts:6: "57P01"',
    ]);
  });

  it('no source file outside the registries spells out a SQLSTATE', () => {
    const files = sourceFiles(join(root, 'src')).map((f) => relative(root, f).split('\\').join('/'));
    expect(files.length).toBeGreaterThan(100);
    const offending = files
      .filter(checked)
      .flatMap((file) => literalSqlstates(file, readFileSync(join(root, file), 'utf8')));
    expect(offending).toEqual([]);
  });
});
