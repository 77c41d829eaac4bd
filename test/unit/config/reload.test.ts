// diffDatabases tells a reload which databases were added, removed, changed or left alone.
import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { diffDatabases } from '../../../src/config/reload.js';

function config(databases: Record<string, string>) {
  const entries = Object.entries(databases)
    .map(
      ([name, primary]) =>
        `  ${name}:\n    backend: { user: u, database: ${name} }\n    shards: [{ primary: "${primary}" }]`,
    )
    .join('\n');
  return parseConfig(`users: [{ name: u, password: p }]\ndatabases:\n${entries}\n`, {});
}

describe('diffDatabases', () => {
  it('sorts databases into added, removed, changed and unchanged', () => {
    const before = config({ keep: 'a:1', move: 'b:1', drop: 'c:1' });
    const after = config({ keep: 'a:1', move: 'b:2', fresh: 'd:1' });
    expect(diffDatabases(before, after)).toEqual({
      added: ['fresh'],
      removed: ['drop'],
      changed: ['move'],
      unchanged: ['keep'],
    });
  });

  it('compares defaults too, so writing a default explicitly is no change', () => {
    const before = config({ app: 'a:1' });
    const text = `users: [{ name: u, password: p }]
databases:
  app:
    backend: { user: u, database: app, connect_timeout: 5s }
    pool: { size: 10 }
    shards: [{ primary: "a:1", replicas: [] }]
`;
    expect(diffDatabases(before, parseConfig(text, {})).unchanged).toEqual(['app']);
  });
});
