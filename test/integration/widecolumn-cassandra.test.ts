// The wide-column plugin end to end: node-postgres through polyproxy with `plugins.widecolumn` on a real Cassandra 5.0.
import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCassandra, type CassandraServer } from '../../src/sandbox/cassandra.js';

let server: CassandraServer;
let direct: cassandra.Client;

beforeAll(async () => {
  server = await startCassandra();
  direct = new cassandra.Client({ contactPoints: [server.contactPoint], localDataCenter: server.dataCenter });
}, 240_000);

afterAll(async () => {
  await direct?.shutdown();
  await server?.stop();
});

describe('the Cassandra test server', () => {
  it('answers CQL on its loopback port', async () => {
    const result = await direct.execute('SELECT release_version FROM system.local');
    expect(result.first().get('release_version')).toMatch(/^5\.0\./);
  });
});
