// Measures point reads on Cassandra through polyproxy against the driver alone (opt-in: POLYPROXY_BENCH=1); prints, asserts nothing on time.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import cassandra from 'cassandra-driver';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCassandra, type CassandraServer } from '../../src/sandbox/cassandra.js';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';

const rounds = 6;
const perRound = 400;
/** Each measured run stops after this long even if it has not done perRound reads. */
const runLimitMs = 10_000;
const keys = 1000;

describe.skipIf(!process.env.POLYPROXY_BENCH)('point reads: polyproxy vs the Cassandra driver', () => {
  let server: CassandraServer;
  let direct: cassandra.Client;
  let proxy: TestProxy;
  let client: pg.Client;

  beforeAll(async () => {
    server = await startCassandra({ maxHeap: '512m' });
    direct = new cassandra.Client({
      contactPoints: [server.contactPoint],
      localDataCenter: server.dataCenter,
    });
    await direct.execute(
      "CREATE KEYSPACE speed WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    );
    await direct.execute('CREATE TABLE speed.users (id int PRIMARY KEY, name text, score bigint)');
    await cassandra.concurrent.executeConcurrent(
      direct,
      'INSERT INTO speed.users (id, name, score) VALUES (?, ?, ?)',
      Array.from({ length: keys }, (_, id) => [id, `user ${id}`, cassandra.types.Long.fromNumber(id * 3)]),
      { concurrencyLevel: 32 },
    );
    proxy = await startTestProxy({
      pluginsYaml: [
        '  widecolumn:',
        `    contact_points: [${JSON.stringify(server.contactPoint)}]`,
        `    local_datacenter: ${server.dataCenter}`,
        '    keyspace: speed',
        '    schema: wide',
        '    read_consistency: one',
      ].join('\n'),
    });
    client = new pg.Client(proxy.client());
    await client.connect();
  }, 300_000);

  afterAll(async () => {
    await client?.end();
    await proxy?.close();
    await direct?.shutdown();
    await server?.stop();
  });

  const viaDriver = async (id: number) =>
    (await direct.execute('SELECT id, name, score FROM speed.users WHERE id = ?', [id], { prepare: true }))
      .rows.length;
  const viaProxy = async (id: number) =>
    (
      await client.query({
        name: 'point',
        text: 'SELECT id, name, score FROM wide.users WHERE id = $1',
        values: [id],
      })
    ).rows.length;

  /** Mean microseconds per read over one run: elapsed, and CPU of this process (client, proxy and drivers). */
  async function run(read: (id: number) => Promise<number>): Promise<{ wall: number; cpu: number }> {
    const started = performance.now();
    const cpu = process.cpuUsage();
    let done = 0;
    while (done < perRound && performance.now() - started < runLimitMs) {
      expect(await read(done % keys)).toBe(1);
      done++;
    }
    const used = process.cpuUsage(cpu);
    return {
      wall: ((performance.now() - started) * 1000) / done,
      cpu: (used.user + used.system) / done,
    };
  }

  it('reads one row by key, interleaved rounds, and prints the medians and their ratio', async () => {
    for (let i = 0; i < 200; i++) await Promise.all([viaDriver(i), viaProxy(i)]);
    const driver: { wall: number; cpu: number }[] = [];
    const through: { wall: number; cpu: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        driver.push(await run(viaDriver));
        through.push(await run(viaProxy));
      } else {
        through.push(await run(viaProxy));
        driver.push(await run(viaDriver));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const key of ['wall', 'cpu'] as const) {
      const d = driver.map((r) => r[key]);
      const p = through.map((r) => r[key]);
      const rounded = (xs: number[]) => xs.map((x) => x.toFixed(0)).join('/');
      console.log(
        `widecolumn point read ${key} µs/read: driver ${median(d).toFixed(0)}, polyproxy ${median(p).toFixed(0)}, ` +
          `ratio ${(median(p) / median(d)).toFixed(2)} (rounds: driver ${rounded(d)}, polyproxy ${rounded(p)})`,
      );
    }
  }, 300_000);

  it.skipIf(!process.env.POLYPROXY_BENCH_PROFILE)(
    'writes a CPU profile of reads through the proxy',
    async () => {
      const session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      await run(viaProxy);
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      await writeFile(process.env.POLYPROXY_BENCH_PROFILE!, JSON.stringify(profile));
    },
    60_000,
  );
});
