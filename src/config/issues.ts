// Turns zod issues into lines like `databases.app.pool.size: expected integer, got "ten"`.
import { z } from 'zod';
import { formatPath, type Path } from './key-path.js';
import { unknownKey } from './unknown-key.js';

const typeNames: Record<string, string> = {
  object: 'mapping',
  record: 'mapping',
  array: 'list',
  int: 'integer',
};

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  if (text.length <= 60) return text;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return typeof value === 'object' ? 'a mapping' : `${text.slice(0, 57)}...`;
}

function showAt(path: Path, value: unknown): string {
  if (path[path.length - 1] !== 'password' || value === undefined) return show(value);
  return `${Array.isArray(value) ? 'a list' : typeof value} (value hidden)`;
}

function bound(iss: { origin: string; inclusive?: boolean }, limit: unknown, side: 'least' | 'most'): string {
  if (iss.origin === 'array') return `expected at ${side} ${limit} item${limit === 1 ? '' : 's'}`;
  if (iss.origin === 'string') return `expected at ${side} ${limit} character${limit === 1 ? '' : 's'}`;
  const op = side === 'least' ? (iss.inclusive ? '>=' : '>') : iss.inclusive ? '<=' : '<';
  return `expected a number ${op} ${limit}`;
}

/** Wording for zod's built-in issue kinds; messages set in the schema take precedence over it. */
export const configErrorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type': {
      const isInt = (iss.inst?._zod.def as { format?: string } | undefined)?.format === 'safeint';
      const expected = isInt ? 'integer' : (typeNames[iss.expected] ?? iss.expected);
      return iss.input === undefined
        ? `required key is missing (expected ${expected})`
        : `expected ${expected}`;
    }
    case 'invalid_value':
      return iss.values.length === 1
        ? `expected ${show(iss.values[0])}`
        : `expected one of ${iss.values.map((v) => show(v)).join(', ')}`;
    case 'too_small':
      return bound(iss, iss.minimum, 'least');
    case 'too_big':
      return bound(iss, iss.maximum, 'most');
    default:
      return undefined;
  }
};

/** One line per problem; custom messages from the schema are complete sentences and kept as they are. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => unknownKey(issue.path, key));
    const where = formatPath(issue.path);
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    if (issue.code === 'custom' || missing) return [`${where}: ${issue.message}`];
    return [`${where}: ${issue.message}, got ${showAt(issue.path, issue.input)}`];
  });
}
