// TPC-H's 22 queries over three shards through the proxy (native plans where they fit, the coordinator
// for the rest) against one plain PostgreSQL holding the same generated rows: equal answers, query by query.
// Times are written to the log for the record, never asserted.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';
import { createAppDatabase, shardedDatabasesYaml } from './sharding-helpers.js';
import { generateTpch, tpchSchema, tpchSharding } from './fixtures/tpch-data.js';
import { tpchQueries } from './fixtures/tpch-queries.js';

/** Scale factor: 0.01 is 15,000 orders and about 60,000 line items. */
const scale = Number(process.env.TPCH_SF ?? 0.01);
const rawTypes = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

let cluster: Cluster;
let proxy: TestProxy;
let sharded: pg.Client;
let single: pg.Client;

async function load(c: pg.Client, table: string, lines: string[]): Promise<void> {
  const stream = c.query(copyFrom(`COPY ${table} FROM STDIN`));
  const chunks = function* () {
    for (let i = 0; i < lines.length; i += 1000) yield lines.slice(i, i + 1000).join('\n') + '\n';
  };
  await pipeline(Readable.from(chunks()), stream);
}

async function timed(c: pg.Client, sql: string): Promise<{ rows: string[]; ms: number }> {
  const started = performance.now();
  const r = await c.query({ text: sql, rowMode: 'array', types: rawTypes });
  const ms = performance.now() - started;
  return { rows: (r.rows as unknown[][]).map((row) => JSON.stringify(row)), ms };
}

beforeAll(async () => {
  cluster = await startCluster({ shards: 3, replicasPerShard: 0 });
  await createAppDatabase(cluster);
  proxy = await startTestProxy({
    databasesYaml: shardedDatabasesYaml({ cluster, sharding: tpchSharding }),
  });
  sharded = await connect(proxy.client());
  const admin = await connect(directConfig('postgres'));
  await admin.query('DROP DATABASE IF EXISTS sharding_tpch');
  await admin.query("CREATE DATABASE sharding_tpch TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'");
  await admin.end();
  single = await connect(directConfig('sharding_tpch'));
  const data = generateTpch(scale);
  for (const c of [sharded, single]) {
    for (const sql of tpchSchema) await c.query(sql);
    for (const [table, lines] of Object.entries(data)) await load(c, table, lines);
  }
  // Plans on the shards and on the plain server from fresh statistics alike.
  for (const c of [sharded, single]) for (const t of Object.keys(data)) await c.query(`ANALYZE ${t}`);
}, 600_000);

afterAll(async () => {
  await sharded?.end();
  await single?.end();
  await proxy?.close();
  await cluster?.stop();
  const admin = await connect(directConfig('postgres'));
  await admin.query('DROP DATABASE IF EXISTS sharding_tpch');
  await admin.end();
});

describe(`TPC-H at scale factor ${scale} over three shards`, () => {
  it('answers all 22 queries as one PostgreSQL does', async () => {
    const report: string[] = [];
    const failures: string[] = [];
    for (const [name, sql] of Object.entries(tpchQueries)) {
      // A first run of each warms caches and the coordinator's connections to the shards.
      await sharded.query(sql).catch(() => {});
      const got = await timed(sharded, sql).catch((e: Error & { code?: string }) => e);
      const want = await timed(single, sql);
      if (got instanceof Error) {
        failures.push(`${name}: ${got.code} ${got.message}`);
        report.push(`${name}\terror ${got.code}`);
        continue;
      }
      const ordered = /order by/i.test(sql.slice(sql.lastIndexOf(')') + 1)) || /order by[^)]*$/i.test(sql);
      const same = ordered
        ? JSON.stringify(got.rows) === JSON.stringify(want.rows)
        : JSON.stringify([...got.rows].sort()) === JSON.stringify([...want.rows].sort());
      if (!same) failures.push(`${name}: answers differ`);
      report.push(
        `${name}\t${same ? 'equal' : 'DIFFERENT'}\trows=${want.rows.length}\tproxy=${got.ms.toFixed(1)}ms\tsingle=${want.ms.toFixed(1)}ms\tratio=${(got.ms / want.ms).toFixed(2)}`,
      );
    }
    console.log(`TPC-H SF ${scale}, 3 shards vs one PostgreSQL\n${report.join('\n')}`);
    expect(failures).toEqual([]);
  }, 600_000);
});
