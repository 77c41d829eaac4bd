// The plugins.graph config slice: defaults, graph-to-database mapping, and the errors a user sees.
import { describe, expect, it } from 'vitest';
import { graphConfigSchema } from '../../../../src/plugins/builtin/graph-neo4j/config.js';

describe('graphConfigSchema', () => {
  it('fills defaults and maps a graph without a database to neo4j', () => {
    expect(
      graphConfigSchema.parse({ url: 'bolt://127.0.0.1:7687', graphs: { social: null, crm: 'sales' } }),
    ).toEqual({
      url: 'bolt://127.0.0.1:7687',
      graphs: { social: 'neo4j', crm: 'sales' },
      connect_timeout: 2000,
      max_retry_time: 1000,
      pool_size: 50,
    });
  });

  it('accepts the example config: cluster URL, login and durations', () => {
    const config = graphConfigSchema.parse({
      url: 'neo4j+s://graph.example:7687',
      user: 'neo4j',
      password: 'secret',
      graphs: { social: 'neo4j' },
      connect_timeout: '500ms',
      max_retry_time: 0,
    });
    expect([config.user, config.connect_timeout, config.max_retry_time]).toEqual(['neo4j', 500, 0]);
  });

  it('refuses other URL schemes and unknown keys', () => {
    const bad = graphConfigSchema.safeParse({ url: 'http://127.0.0.1:7474' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].message).toContain('bolt://host:port');
    const unknown = graphConfigSchema.safeParse({ url: 'bolt://h:1', graph: {} });
    expect(unknown.success).toBe(false);
  });
});
