// Every Grafana panel query runs on a real Prometheus scraping a real polyproxy under load: a primary with a
// replica, a sharded database and plugins (the Redis cache and the kv example).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPrometheus, type Prometheus } from '../../src/sandbox/prometheus.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect, sleep, withClient } from './helpers/tools.js';
import path from 'node:path';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { startRedis, type RedisServer } from '../../src/sandbox/redis.js';
import { createAppDatabase, shardedDatabasesYaml } from './sharding-helpers.js';

const dashboardDir = 'grafana/dashboards';

interface Target {
  expr: string;
}
interface Panel {
  id: number;
  title: string;
  datasource: { uid: string };
  targets: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query: { query: string } }[] };
}

/** What Grafana would put in for its built-in variables and ours (`$database`: All). */
function substitute(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5s')
    .replaceAll('$__interval', '5s')
    .replaceAll('$__range', '1m')
    .replaceAll('$database', '.*');
}

/**
 * Statement-level panels filter on a kind: they must return data once a statement of that kind ran. Every
 * other panel must return data: the topology has replicas, a sharded database and plugins (cache and kv).
 */
function needs(expr: string): 'statements' | null {
  if (/polyproxy_statement_(duration_seconds|errors_total)/.test(expr)) return 'statements';
  return null;
}

async function loadDashboards(): Promise<{ file: string; dashboard: Dashboard }[]> {
  const files = (await readdir(dashboardDir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      file,
      dashboard: JSON.parse(await readFile(join(dashboardDir, file), 'utf8')) as Dashboard,
    })),
  );
}

let proxy: TestProxy;
let prometheus: Prometheus;
let shards: Cluster;
let redis: RedisServer;
let stopLoad = false;
let load: Promise<void>;

/**
 * A client writing then reading (read-your-writes sends the read to the primary) and failing, or only reading
 * (the replica serves it), until told to stop; bounded either way.
 */
async function runLoad(config: pg.ClientConfig, writes: boolean): Promise<void> {
  const client = await connect(config);
  try {
    for (let i = 0; i < 3000 && !stopLoad; i++) {
      if (writes) await client.query('INSERT INTO grafana_load (n) VALUES ($1)', [i]);
      await client.query('SELECT count(*) FROM grafana_load');
      await client.query('SELECT 1/0').catch(() => {});
      // The kv example plugin: a write, a read, and a duplicate key that the plugin refuses.
      if (writes) await client.query('INSERT INTO kv.entries (key, value) VALUES ($1, $2)', [`k${i}`, 'v']);
      await client.query('SELECT * FROM kv.entries WHERE key = $1', ['k0']);
      if (writes) await client.query("INSERT INTO kv.entries (key) VALUES ('k0')").catch(() => {});
      await sleep(20);
    }
  } finally {
    await client.end();
  }
}

/** Single-shard writes and reads by key, and scattered counts, on the sharded database; bounded. */
async function runShardedLoad(config: pg.ClientConfig): Promise<void> {
  const client = await connect(config);
  try {
    for (let i = 1; i <= 3000 && !stopLoad; i++) {
      await client.query('INSERT INTO orders (id, amount) VALUES ($1, $2)', [i, i % 7]);
      await client.query('SELECT amount FROM orders WHERE id = $1', [i]);
      await client.query('SELECT count(*), sum(amount) FROM orders');
      await sleep(20);
    }
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  const pgCtx = inject('pg');
  await withClient(directConfig(), (c) => c.query('CREATE TABLE IF NOT EXISTS grafana_load (n int)'));
  const backend = `{ user: postgres, password: ${JSON.stringify(pgCtx.password)}, database: app }`;
  [shards, redis] = await Promise.all([startCluster({ shards: 2, replicasPerShard: 0 }), startRedis()]);
  await createAppDatabase(shards);
  const kvModule = path.resolve('src/plugins/examples/kv-memory.ts');
  proxy = await startTestProxy({
    databasesYaml: [
      '  app:',
      `    backend: ${backend}`,
      '    pool: { mode: transaction, size: 4 }',
      `    shards: [{ primary: "${pgCtx.host}:${pgCtx.port}", replicas: ["${pgCtx.host}:${pgCtx.replicaPort}"] }]`,
      '    routing: { read_your_writes: true }',
      shardedDatabasesYaml({ cluster: shards, name: 'shop', sharding: { tables: { orders: 'id' } } }),
    ].join('\n'),
    pluginsYaml: [
      `  cache: { redis: ${JSON.stringify(redis.url)}, tables: [grafana_load] }`,
      `  kv: { module: ${JSON.stringify(kvModule)} }`,
    ].join('\n'),
  });
  await withClient(proxy.client('app', 'shop'), (c) =>
    c.query('CREATE TABLE orders (id int8 PRIMARY KEY, amount int)'),
  );
  prometheus = await startPrometheus({ targets: [`127.0.0.1:${proxy.adminPort}`], scrapeInterval: '1s' });
  load = Promise.all([
    runLoad(proxy.client(), true),
    runLoad(proxy.client(), false),
    runShardedLoad(proxy.client('app', 'shop')),
  ]).then(() => {});
  await waitFor(async () => (await prometheus.scrapes()) >= 8, {
    what: '8 scrapes of polyproxy',
    timeoutMs: 60_000,
  });
});

afterAll(async () => {
  stopLoad = true;
  await load?.catch(() => {});
  await prometheus?.stop();
  await proxy?.close();
  await Promise.all([shards?.stop(), redis?.stop()]);
  await withClient(directConfig(), (c) => c.query('DROP TABLE IF EXISTS grafana_load'));
});

describe('grafana dashboards', () => {
  it('are five dashboards with unique uids and panel ids, on the provisioned data source', async () => {
    const dashboards = await loadDashboards();
    expect(dashboards.map((d) => d.file)).toEqual([
      'cache-plugins.json',
      'overview.json',
      'pools.json',
      'routing-replicas.json',
      'sharding.json',
    ]);
    const provisioning = await readFile('grafana/provisioning/datasources/prometheus.yml', 'utf8');
    const uid = /uid: (\S+)/.exec(provisioning)![1];
    expect(new Set(dashboards.map((d) => d.dashboard.uid)).size).toBe(5);
    for (const { dashboard } of dashboards) {
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of dashboard.panels) {
        expect(p.datasource.uid).toBe(uid);
        expect(p.targets.length).toBeGreaterThan(0);
        for (const t of p.targets)
          expect(t.expr).not.toMatch(/polyproxy_[a-z_]*\{[^}]*(statement|sql|query)=/);
      }
      expect(dashboard.templating.list.map((v) => v.name)).toEqual(['database']);
    }
  });

  it('the database variable lists the configured database', async () => {
    const { result } = await prometheus.query('group by (database) (polyproxy_server_connections)');
    expect(result.map((r) => r.metric.database).sort()).toEqual(['app', 'shop']);
  });

  it('every panel query parses and returns data where its metric exists', async () => {
    /** Whether Prometheus has any series of a metric named in a query (histogram suffixes included). */
    const exists = async (name: string) =>
      (await prometheus.query(`count({__name__=~"${name}(_bucket|_count|_sum)?"})`)).result.length > 0;
    let withData = 0;
    const empty: string[] = [];
    for (const { file, dashboard } of await loadDashboards()) {
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          const expr = substitute(target.expr);
          const where = `${file} "${panel.title}": ${expr}`;
          expect(expr, `${where} leaves a variable`).not.toContain('$');
          const { result } = await prometheus.query(expr);
          const need = needs(expr);
          let required = need === null;
          if (need === 'statements') {
            const names = [
              ...new Set(expr.match(/polyproxy_statement_[a-z_]+?(?=_bucket|_count|_sum|\{|\[|$)/g)),
            ];
            const kind = /kind="(\w+)"/.exec(expr)?.[1];
            required =
              (await Promise.all(names.map(exists))).every(Boolean) &&
              (!kind ||
                (await prometheus.query(`count(polyproxy_statement_duration_seconds_count{kind="${kind}"})`))
                  .result.length > 0);
          }
          if (required) expect(result.length, where).toBeGreaterThan(0);
          if (result.length > 0) withData++;
          else empty.push(`${where} (${need})`);
        }
      }
    }
    expect(empty, 'panels without data').toEqual([]);
    expect(withData).toBeGreaterThanOrEqual(45);
  });

  it('sees the replica, its lag, and read-your-writes decisions', async () => {
    const up = await prometheus.query('polyproxy_server_up{database="app"}');
    expect(up.result.map((r) => r.metric.role).sort()).toEqual(['primary', 'replica']);
    const lag = await prometheus.query('polyproxy_replica_lag_seconds{database="app"}');
    expect(lag.result).toHaveLength(1);
    const ryw = await prometheus.query(
      'polyproxy_route_decisions_total{database="app", reason="read-your-writes"}',
    );
    expect(Number(ryw.result[0].value![1])).toBeGreaterThan(0);
  });
});
