// SHOW CONFIG rows: flattened keys, defaults beside values, secrets (also inside URLs) redacted.
import { describe, expect, it } from 'vitest';
import { configRows } from '../../../src/admin/console/config-rows.js';
import { parseConfig } from '../../../src/config/load.js';

const yaml = `
listen: 127.0.0.1:7000
users:
  - { name: app, password: app-secret }
databases:
  app:
    backend: { user: postgres, password: pg-secret, database: app }
    pool: { size: 4 }
    shards: [{ primary: "127.0.0.1:5432" }]
plugins:
  cache: { url: "redis://:redis-secret@redis:6379/0" }
`;

describe('configRows', () => {
  const rows = configRows(parseConfig(yaml, {}, 'test.yaml'));
  const byKey = new Map(rows.map((r) => [r.key, r]));

  it('lists values with their defaults and whether RELOAD changes them', () => {
    expect(byKey.get('databases.app.pool.size')).toEqual({
      key: 'databases.app.pool.size',
      value: '4',
      default: '10',
      changeable: 'yes',
    });
    expect(byKey.get('listen')).toMatchObject({
      value: '127.0.0.1:7000',
      default: '127.0.0.1:6432',
      changeable: 'no',
    });
    expect(byKey.get('users[0].name')!.value).toBe('app');
  });

  it('never shows a password, in a field or in a URL', () => {
    expect(byKey.get('users[0].password')!.value).toBe('[redacted]');
    expect(byKey.get('databases.app.backend.password')!.value).toBe('[redacted]');
    expect(byKey.get('plugins.cache.url')!.value).toBe('redis://:[redacted]@redis:6379/0');
    const dump = JSON.stringify(rows);
    for (const secret of ['app-secret', 'pg-secret', 'redis-secret']) expect(dump).not.toContain(secret);
  });
});
