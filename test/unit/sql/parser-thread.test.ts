// The parser thread: large statements parsed and classified off the event loop give what the event loop would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifySql, classifySqlAsync } from '../../../src/router/classify.js';
import { classifyText } from '../../../src/router/classify-text.js';
import { normalizeFunctionNames } from '../../../src/router/side-effect-functions.js';
import { loadParser, parseAsync, parseHere, parseSql } from '../../../src/sql/parser.js';
import { parserThread } from '../../../src/sql/parser-thread.js';
import { LARGE_STATEMENT } from '../../../src/sql/statement-budget.js';

const opts = { primaryFunctions: new Set<string>(['audit.log_event']) };

/** A SELECT with an IN list of integers at least `chars` long; `salt` makes the list distinct. */
function inList(chars: number, salt = 0, head = 'SELECT count(*) FROM users WHERE id IN ('): string {
  const parts: string[] = [];
  let n = head.length;
  for (let i = 0; n < chars; i++) {
    const s = String(100000 + ((i * 7919 + salt) % 900000));
    parts.push(s);
    n += s.length + 1;
  }
  return `${head}${parts.join(',')})`;
}

beforeAll(async () => {
  await loadParser();
});

afterAll(() => parserThread.stop());

describe('the parser thread', () => {
  it('parses a large statement to the same tree as the event loop would', async () => {
    const sql = inList(LARGE_STATEMENT + 1000, 1);
    expect(parserThread.takes(sql.length)).toBe(true);
    const here = parseHere(sql);
    expect(await parseAsync(sql)).toEqual(here);
    expect(parseSql(sql)).toEqual(here);
    expect(parserThread.running).toBe(true);
  });

  it('classifies a large statement as the event loop would, hints and side-effect functions included', async () => {
    const functions = normalizeFunctionNames(opts.primaryFunctions);
    const read = inList(LARGE_STATEMENT + 10, 2);
    const write = `/* polyproxy: replica */ ${inList(LARGE_STATEMENT + 10, 3, 'SELECT audit.log_event(1) WHERE 1 IN (')}`;
    for (const sql of [read, write]) {
      const here = classifyText(sql.replace(/^\/\*.*?\*\/ /, ''), functions).info;
      const off = await classifySqlAsync(sql, opts);
      expect({ ...off, hint: undefined }).toEqual({ ...here, hint: undefined });
      expect(classifySql(sql, opts)).toEqual(off);
      expect(Object.isFrozen(classifySql(read, opts))).toBe(true);
    }
    expect((await classifySqlAsync(read, opts)).access).toBe('read');
    const hinted = await classifySqlAsync(write, opts);
    expect([hinted.access, hinted.reason, hinted.hint]).toEqual([
      'write',
      'side-effect-function:log_event',
      'replica',
    ]);
  });

  it('answers a large statement the parser refuses with the parser error (and unparseable as a class)', async () => {
    const sql = inList(LARGE_STATEMENT + 10, 4).replace('SELECT', 'SELEC');
    const parsed = await parseAsync(sql);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/syntax error/);
    expect((await classifySqlAsync(sql, opts)).reason).toBe('unparseable');
  });

  it('serves small statements at once, on the event loop, from the caches', async () => {
    const sql = `SELECT ${Math.random()} AS small`;
    const first = parseSql(sql);
    expect(await parseAsync(sql)).toBe(first);
    expect(await classifySqlAsync('SELECT 1', opts)).toBe(classifySql('SELECT 1', opts));
  });

  it('keeps answering in order while async and sync callers share the thread', async () => {
    const texts = [0, 1, 2].map((i) => inList(LARGE_STATEMENT + 100 * i, 10 + i));
    const pending = texts.map((t) => parseAsync(t));
    const sync = parseSql(texts[1]);
    const outcomes = await Promise.all(pending);
    expect(outcomes.map((o) => o.ok && o.statements.length)).toEqual([1, 1, 1]);
    expect(outcomes[1]).toEqual(sync);
  });

  it('answers the jobs of a thread stopped under them as not parsed (unparseable: for the primary)', async () => {
    const sql = inList(LARGE_STATEMENT, 30);
    const parsing = parseAsync(sql);
    const classifying = classifySqlAsync(sql, opts);
    parserThread.stop();
    const parsed = await parsing;
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/stopped/);
    expect((await classifying).reason).toBe('unparseable');
  });

  it('starts again after it was stopped', async () => {
    parserThread.stop();
    expect(parserThread.running).toBe(false);
    const before = parserThread.started;
    const sql = inList(LARGE_STATEMENT, 20);
    expect((await parseAsync(sql)).ok).toBe(true);
    expect(parserThread.started).toBe(before + 1);
  });
});
