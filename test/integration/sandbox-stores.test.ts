// `npm start`'s other stores: Redis, FerretDB and Neo4j start, and the plugin settings the sandbox writes for
// them are valid and work through a proxy (a cached read, a document table, a graph).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { checkPlugins } from '../../src/plugins/registry.js';
import { startSandboxStores, wantedStores, type SandboxStores } from '../../src/sandbox/sandbox-stores.js';
import { stringify } from 'yaml';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';

let stores: SandboxStores;
let proxy: TestProxy;

beforeAll(async () => {
  stores = await startSandboxStores(silentLogger, wantedStores('redis,mongodb,neo4j'));
  const pluginsYaml = stringify(stores.plugins)
    .split('\n')
    .map((line) => (line ? `  ${line}` : line))
    .join('\n');
  proxy = await startTestProxy({ pluginsYaml });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await stores?.stop();
});

describe('sandbox stores', () => {
  it('start all three, with plugin settings their plugins accept', async () => {
    expect(Object.keys(stores.plugins).sort()).toEqual(['cache', 'documents', 'graph']);
    expect(stores.lines).toHaveLength(3);
    expect(await checkPlugins(stores.plugins, process.cwd())).toEqual([]);
  });

  it('answer through the proxy: a hinted cached read, a document table and a graph', async () => {
    const c = new pg.Client(proxy.client());
    await c.connect();
    try {
      const cached = await c.query(
        '/* polyproxy: cache ttl=60 */ SELECT count(*)::int AS n FROM pg_class WHERE false',
      );
      expect(cached.rows).toEqual([{ n: 0 }]);
      await c.query("INSERT INTO docs.people (name, age) VALUES ('Ada', 36)");
      expect((await c.query('SELECT name, age FROM docs.people')).rows).toEqual([{ name: 'Ada', age: 36 }]);
      const graph = await c.query(
        "SELECT * FROM cypher('sandbox', $$ CREATE (n:Person {name: 'Ada'}) RETURN n.name $$) AS (name text)",
      );
      expect(graph.rows).toEqual([{ name: 'Ada' }]);
    } finally {
      await c.end();
    }
  });
});
