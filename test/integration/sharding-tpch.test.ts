// TPC-H's 22 queries over three shards through the proxy (native plans where they fit, the coordinator
// for the rest) against one plain PostgreSQL holding the same generated rows: equal answers, query by query.
// Times are written to the log for the record, never asserted.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decorrelation } from '../../src/engine/operators/coordinator-decorrelate.js';
import { semiJoinReduction } from '../../src/engine/operators/coordinator-semijoin.js';
import type { Cluster } from '../../src/sandbox/postgres.js';
import { databaseEntryYaml, rawTypes, startShardedRig, type ShardedRig } from './sharding-helpers.js';
import { generateTpch, tpchSchema, tpchSharding } from './fixtures/tpch-data.js';
import { tpchQueries } from './fixtures/tpch-queries.js';

/** Scale factor: 0.01 is 15,000 orders and about 60,000 line items. */
const scale = Number(process.env.TPCH_SF ?? 0.01);
/** `three-servers` (default): a server per shard; `one-server`: three shard databases on one server. */
const layout = process.env.TPCH_LAYOUT === 'one-server' ? 'one-server' : 'three-servers';
/** Timed runs per query after the warm-up one; the fastest is reported (the machine is shared). */
const runs = Math.max(1, Number(process.env.TPCH_RUNS ?? 1));
/** `TPCH_QUERIES=2,5,7`: only these queries (a run at SF 0.1 without Q17 and Q20 takes minutes, not half an hour). */
const only = process.env.TPCH_QUERIES?.split(',').map((q) => `q${q.trim().replace(/^q/i, '')}`);
/** `TPCH_SEMIJOIN=compare`: each query through the proxy also without the semi-join reduction, runs alternating. */
/** `TPCH_DECORRELATE=compare`: the same, without and with the decorrelation of aggregate subqueries. */
const toggled = process.env.TPCH_DECORRELATE === 'compare' ? decorrelation : semiJoinReduction;
const compare = process.env.TPCH_SEMIJOIN === 'compare' || toggled === decorrelation;
const queries = Object.entries(tpchQueries).filter(([name]) => !only || only.includes(name));

let rig: ShardedRig;
let sharded: pg.Client;
let single: pg.Client;

async function load(c: pg.Client, table: string, lines: string[]): Promise<void> {
  const stream = c.query(copyFrom(`COPY ${table} FROM STDIN`));
  const chunks = function* () {
    for (let i = 0; i < lines.length; i += 1000) yield lines.slice(i, i + 1000).join('\n') + '\n';
  };
  await pipeline(Readable.from(chunks()), stream);
}

/** A query's rows and time: its first run warms caches, unless it took so long that caches do not matter. */
async function timed(c: pg.Client, sql: string): Promise<{ rows: string[]; ms: number }> {
  let best = Infinity;
  let rows: unknown[][] = [];
  for (let i = 0; i <= runs; i++) {
    const started = performance.now();
    rows = (await c.query({ text: sql, rowMode: 'array', types: rawTypes })).rows as unknown[][];
    const ms = performance.now() - started;
    if (i === 0 && ms > 5_000) return { rows: rows.map((row) => JSON.stringify(row)), ms };
    if (i > 0) best = Math.min(best, ms);
  }
  return { rows: rows.map((row) => JSON.stringify(row)), ms: best };
}

/** Best times through the proxy without and with the compared rewrite, their runs alternating. */
async function timedWithout(sql: string): Promise<string> {
  const best = [Infinity, Infinity];
  for (let i = 0; i <= runs; i++)
    for (const on of [false, true]) {
      toggled.enabled = on;
      const started = performance.now();
      await sharded.query({ text: sql, rowMode: 'array', types: rawTypes });
      if (i > 0) best[Number(on)] = Math.min(best[Number(on)], performance.now() - started);
    }
  toggled.enabled = true;
  return `\twithout=${best[0].toFixed(1)}ms\twith=${best[1].toFixed(1)}ms\tsaved=${(best[0] / best[1]).toFixed(2)}x`;
}

/** The one-server layout's database config: three shard databases on the cluster's one server. */
async function oneServerYaml(cluster: Cluster): Promise<string> {
  const server = cluster.shards[0].primary;
  for (let i = 0; i < 3; i++) await server.psql(`CREATE DATABASE app_${i}`);
  return databaseEntryYaml('app', {
    backend: { user: 'postgres', password: cluster.password, database: 'app', connect_timeout: '5s' },
    pool: { mode: 'transaction', size: 6 },
    shards: [0, 1, 2].map((i) => ({ primary: `${server.host}:${server.port}`, database: `app_${i}` })),
    sharding: tpchSharding,
  });
}

beforeAll(async () => {
  rig = await startShardedRig({
    shards: layout === 'three-servers' ? 3 : 1,
    sharding: tpchSharding,
    databasesYaml: layout === 'one-server' ? oneServerYaml : undefined,
    single: 'sharding_tpch',
  });
  ({ sharded, single } = rig);
  const data = generateTpch(scale);
  for (const c of [sharded, single]) {
    const started = performance.now();
    for (const sql of tpchSchema) await c.query(sql);
    for (const [table, lines] of Object.entries(data)) await load(c, table, lines);
    const what = c === sharded ? 'through the proxy' : 'into one PostgreSQL';
    console.log(
      `TPC-H SF ${scale}: loaded ${what} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  // Plans on the shards and on the plain server from fresh statistics alike.
  for (const c of [sharded, single]) for (const t of Object.keys(data)) await c.query(`ANALYZE ${t}`);
  // The first coordinator statement creates the coordinator database, its mirror and statistics: not timed.
  await sharded.query('SELECT count(*) FROM lineitem JOIN part ON p_partkey = l_partkey');
}, 600_000);

afterAll(() => rig?.stop());

describe(`TPC-H at scale factor ${scale} over three shards (${layout})`, () => {
  it(`answers ${only ? `queries ${only.join(', ')}` : 'all 22 queries'} as one PostgreSQL does`, async () => {
    const report: string[] = [];
    const failures: string[] = [];
    const ratios: number[] = [];
    expect(queries.length).toBeGreaterThan(0);
    for (const [name, sql] of queries) {
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
      ratios.push(got.ms / want.ms);
      const without = compare ? await timedWithout(sql) : '';
      report.push(
        `${name}\t${same ? 'equal' : 'DIFFERENT'}\trows=${want.rows.length}\tproxy=${got.ms.toFixed(1)}ms\tsingle=${want.ms.toFixed(1)}ms\tratio=${(got.ms / want.ms).toFixed(2)}${without}`,
      );
    }
    const geomean = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length);
    report.push(`geomean\t${geomean.toFixed(2)}`);
    console.log(`TPC-H SF ${scale}, 3 shards (${layout}) vs one PostgreSQL\n${report.join('\n')}`);
    expect(failures).toEqual([]);
  }, 3_600_000);
});
