// ${VAR} substitution in the raw config text.
import { describe, it, expect } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { substituteEnv } from '../../../src/config/env.js';

function errorsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.errors;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('substituteEnv', () => {
  it('substitutes a set variable, even an empty one', () => {
    expect(substituteEnv('password: ${PW}\n', { PW: 's3cret' })).toBe('password: s3cret\n');
    expect(substituteEnv('password: "${PW}"', { PW: '' })).toBe('password: ""');
  });

  it('uses the default when the variable is unset or empty', () => {
    expect(substituteEnv('a: ${A:-x}, b: ${B:-}, c: ${C:-y:z}', { B: '', C: '' })).toBe('a: x, b: , c: y:z');
    expect(substituteEnv('a: ${A:-x}', { A: 'set' })).toBe('a: set');
  });

  it('names the unset variable and its line', () => {
    const errors = errorsOf(() => substituteEnv('a: 1\nb: ${MISSING}\n', {}, 'app.yaml'));
    expect(errors).toEqual([
      'line 2: environment variable MISSING is not set (write ${MISSING:-default} for a default)',
    ]);
  });

  it('reports every problem at once, with the file name in the message', () => {
    try {
      substituteEnv('a: ${ONE}\nb: ${bad name}\nc: ${OPEN\n', {}, 'app.yaml');
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).errors).toHaveLength(3);
      expect((error as Error).message).toMatch(/^app\.yaml: line 1: environment variable ONE is not set/);
      expect((error as ConfigError).errors[1]).toBe(
        'line 2: expected ${VAR} or ${VAR:-default}, got "${bad name}"',
      );
    }
  });

  it('keeps a lone $ and turns $${ into a literal ${', () => {
    const verifier = 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy';
    expect(substituteEnv(`password: ${verifier}`, {})).toBe(`password: ${verifier}`);
    expect(substituteEnv('q: "$${NOT_A_VAR}"', {})).toBe('q: "${NOT_A_VAR}"');
  });

  it('leaves comment lines alone', () => {
    expect(substituteEnv('  # use ${UNSET} here\na: 1', {})).toBe('  # use ${UNSET} here\na: 1');
  });
});
