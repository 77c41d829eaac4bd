// The generated JSON Schema describes the config keys and matches the committed config/schema.json.
import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { configJsonSchema } from '../../../src/config/json-schema.js';

type Node = {
  properties: Record<string, Node>;
  additionalProperties: Node;
  items: Node;
  required?: string[];
};

describe('configJsonSchema', () => {
  const schema = configJsonSchema() as unknown as Node & Record<string, unknown>;

  it('has an id and a title', () => {
    expect(schema.$id).toBe('urn:polyproxy:config');
    expect(schema.title).toBe('polyproxy configuration');
  });

  it('describes the input shape with its keys', () => {
    expect(Object.keys(schema.properties)).toEqual([
      'listen',
      'admin',
      'tls',
      'limits',
      'log',
      'shutdown_timeout',
      'workers',
      'users',
      'databases',
      'plugins',
    ]);
    expect(schema.required).toEqual(['users', 'databases']);
    const database = schema.properties.databases.additionalProperties;
    expect(Object.keys(database.properties)).toEqual([
      'backend',
      'pool',
      'shards',
      'routing',
      'sharding',
      'reshard',
    ]);
    expect(Object.keys(database.properties.pool.properties)).toContain('reset_query');
    expect(Object.keys(database.properties.shards.items.properties)).toEqual([
      'primary',
      'replicas',
      'role',
      'database',
    ]);
    expect(Object.keys(schema.properties.users.items.properties)).toEqual([
      'name',
      'password',
      'auth',
      'admin',
    ]);
    expect(database.properties.pool.properties.idle_timeout).toMatchObject({ default: '10m' });
    expect(database.additionalProperties).toBe(false);
  });

  it('matches config/schema.json (regenerate with npm run build)', () => {
    const committed = JSON.parse(
      readFileSync(new URL('../../../config/schema.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(configJsonSchema());
  });
});
