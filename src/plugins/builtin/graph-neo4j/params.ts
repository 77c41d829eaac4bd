// The third cypher() argument: a JSON (agtype) map of Cypher parameters, with integers kept as Cypher INTEGERs.
import neo4j from 'neo4j-driver';
import type { CypherParamsSource } from './cypher-call.js';
import { pluginError } from './errors.js';

/**
 * JSON.parse cannot tell `1` from `1.0` and rounds integers past 2^53, but Cypher distinguishes INTEGER from
 * FLOAT: this small reader keeps the number's text and decides from it.
 */
class JsonReader {
  private pos = 0;
  constructor(private readonly text: string) {}

  read(): unknown {
    const value = this.value();
    this.space();
    if (this.pos !== this.text.length) this.fail('unexpected text after the value');
    return value;
  }

  private fail(reason: string): never {
    throw pluginError(
      'invalidTextRepresentation',
      `invalid Cypher parameters map at offset ${this.pos}: ${reason}`,
    );
  }

  private space(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private value(): unknown {
    this.space();
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.number();
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.space();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text[this.pos] !== '"') this.fail('expected a string key');
      const key = this.string();
      this.space();
      if (this.text[this.pos++] !== ':') this.fail('expected ":"');
      out[key] = this.value();
      this.space();
      const next = this.text[this.pos++];
      if (next === '}') return out;
      if (next !== ',') this.fail('expected "," or "}"');
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.space();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.space();
      const next = this.text[this.pos++];
      if (next === ']') return out;
      if (next !== ',') this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    const match = /^"(?:[^"\\]|\\.)*"/.exec(this.text.slice(this.pos));
    if (!match) this.fail('unterminated string');
    try {
      // JSON.parse checks escapes and control characters as JSON defines them.
      const value = JSON.parse(match[0]) as string;
      this.pos += match[0].length;
      return value;
    } catch {
      this.fail('bad string');
    }
  }

  private number(): unknown {
    const match = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (!match) this.fail('expected a value');
    this.pos += match[0].length;
    const isInteger = match[1] === undefined && match[2] === undefined;
    if (!isInteger) return Number(match[0]);
    const big = BigInt(match[0]);
    if (big > 2n ** 63n - 1n || big < -(2n ** 63n)) return Number(match[0]);
    return neo4j.int(match[0]);
  }
}

/** The parameters map for Neo4j; SQL NULL or no third argument means no parameters. */
export function cypherParams(
  source: CypherParamsSource,
  bound: readonly (string | null)[],
): Record<string, unknown> {
  let text: string | null;
  if (source.kind === 'none') return {};
  if (source.kind === 'literal') text = source.text;
  else {
    if (source.number < 1 || source.number > bound.length) {
      throw pluginError('undefinedParameter', `there is no parameter $${source.number}`);
    }
    text = bound[source.number - 1];
  }
  if (text === null) return {};
  const value = new JsonReader(text).read();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw pluginError(
      'invalidParameterValue',
      'the third argument of cypher() must be a map of Cypher parameters',
    );
  }
  return value as Record<string, unknown>;
}
