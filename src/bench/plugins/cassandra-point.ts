// Workload "cassandra-point": a partition read of one row of a Cassandra table, by cassandra-driver (prepare: true) and through polyproxy.
import cassandra from 'cassandra-driver';
import { startCassandra } from '../../sandbox/cassandra.js';
import type { PluginWorkload } from './plugin-workload.js';

const rows = 1000;
const key = (i: number) => i % rows;

/** The measured read by the driver itself, prepared, at consistency ONE: resolves to its row count. */
const read = async (client: cassandra.Client, i: number): Promise<number> =>
  (
    await client.execute('SELECT id, name, score FROM speed.users WHERE id = ?', [key(i)], {
      prepare: true,
      consistency: cassandra.types.consistencies.one,
    })
  ).rows.length;

export const cassandraPoint: PluginWorkload = {
  name: 'cassandra-point',
  label: 'Cassandra partition read (cassandra-driver prepared vs polyproxy, schema wide)',
  rowsPerStatement: 1,
  async start(baseDir) {
    const server = await startCassandra({ maxHeap: '512m', baseDir });
    const direct = new cassandra.Client({
      contactPoints: [server.contactPoint],
      localDataCenter: server.dataCenter,
    });
    try {
      await direct.execute(
        "CREATE KEYSPACE speed WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
      );
      await direct.execute('CREATE TABLE speed.users (id int PRIMARY KEY, name text, score bigint)');
      await cassandra.concurrent.executeConcurrent(
        direct,
        'INSERT INTO speed.users (id, name, score) VALUES (?, ?, ?)',
        Array.from({ length: rows }, (_, id) => [id, `user ${id}`, cassandra.types.Long.fromNumber(id * 3)]),
        { concurrencyLevel: 32 },
      );
    } catch (err) {
      await direct.shutdown();
      await server.stop();
      throw err;
    }
    const plugins = {
      widecolumn: {
        contact_points: [server.contactPoint],
        local_datacenter: server.dataCenter,
        keyspace: 'speed',
        schema: 'wide',
        read_consistency: 'one' as const,
      },
    };
    return {
      plugins,
      direct: (i) => read(direct, i),
      sql: 'SELECT id, name, score FROM wide.users WHERE id = $1',
      params: (i) => [key(i)],
      literalSql: (i) => `SELECT id, name, score FROM wide.users WHERE id = ${key(i)}`,
      relayed: {
        port: server.port,
        async connect(relayPort) {
          const relay = `127.0.0.1:${relayPort}`;
          // The node announces its own address: every connection is sent to the relay instead.
          const toRelay = cassandra.policies.defaultAddressTranslator();
          toRelay.translate = (_address, _port, callback: (endpoint: string) => void) => callback(relay);
          const client = new cassandra.Client({
            contactPoints: [relay],
            localDataCenter: server.dataCenter,
            policies: { addressResolution: toRelay },
          });
          await client.connect();
          return { run: (i) => read(client, i), stop: () => client.shutdown() };
        },
      },
      stop: async () => {
        await direct.shutdown();
        await server.stop();
      },
    };
  },
};
