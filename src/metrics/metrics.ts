// Every Prometheus metric the proxy exports, defined in one place; values are read at scrape time.
import client from 'prom-client';
import { classifyCacheStats } from '../router/classify.js';
import { parseCacheStats } from '../sql/parser.js';

export interface HostMetrics {
  database: string;
  server: string;
  role: string;
  healthy: boolean;
  lagMs: number | null;
}

export interface MetricsSource {
  clientCount(): number;
  hosts(): HostMetrics[];
  /** Routing decisions since start: database, role, reason, count. */
  routes(): { database: string; role: string; reason: string; count: number }[];
  pools(): {
    database: string;
    server: string;
    active: number;
    idle: number;
    waiting: number;
    stats: PoolStats;
  }[];
}

export interface PoolStats {
  acquired: number;
  waited: number;
  timeouts: number;
  created: number;
  closed: number;
  waitMsTotal: number;
}

/** A registry per proxy instance, so tests can run several proxies in one process. */
export function createMetrics(source: MetricsSource): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'polyproxy_process_' });
  new client.Gauge({
    name: 'polyproxy_client_connections',
    help: 'Client connections currently open',
    registers: [registry],
    collect() {
      this.set(source.clientCount());
    },
  });
  new client.Gauge({
    name: 'polyproxy_server_connections',
    help: 'Server connections per pool and state (active: held by a client, idle: in the pool)',
    labelNames: ['database', 'server', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of source.pools()) {
        this.set({ database: p.database, server: p.server, state: 'active' }, p.active);
        this.set({ database: p.database, server: p.server, state: 'idle' }, p.idle);
      }
    },
  });
  new client.Gauge({
    name: 'polyproxy_pool_waiting_clients',
    help: 'Clients waiting for a server connection',
    labelNames: ['database', 'server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of source.pools()) this.set({ database: p.database, server: p.server }, p.waiting);
    },
  });
  const counters: [keyof PoolStats, string, string][] = [
    ['acquired', 'polyproxy_pool_acquisitions_total', 'Server connections handed to clients'],
    ['waited', 'polyproxy_pool_waits_total', 'Acquisitions that had to wait for a connection'],
    ['timeouts', 'polyproxy_pool_timeouts_total', 'Clients that gave up waiting for a connection'],
    ['created', 'polyproxy_server_connects_total', 'Server connections opened'],
    ['closed', 'polyproxy_server_disconnects_total', 'Server connections closed by the proxy'],
  ];
  for (const [key, name, help] of counters) {
    new client.Counter({
      name,
      help,
      labelNames: ['database', 'server'],
      registers: [registry],
      collect() {
        this.reset();
        for (const p of source.pools()) this.inc({ database: p.database, server: p.server }, p.stats[key]);
      },
    });
  }
  new client.Counter({
    name: 'polyproxy_pool_wait_seconds_total',
    help: 'Time clients spent waiting for a server connection',
    labelNames: ['database', 'server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of source.pools())
        this.inc({ database: p.database, server: p.server }, p.stats.waitMsTotal / 1000);
    },
  });
  new client.Gauge({
    name: 'polyproxy_server_up',
    help: 'Whether the last check of the server succeeded (1) or not (0)',
    labelNames: ['database', 'server', 'role'],
    registers: [registry],
    collect() {
      this.reset();
      for (const h of source.hosts())
        this.set({ database: h.database, server: h.server, role: h.role }, h.healthy ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'polyproxy_replica_lag_seconds',
    help: 'How long ago the primary first had WAL the replica has not replayed',
    labelNames: ['database', 'server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const h of source.hosts())
        if (h.lagMs !== null) this.set({ database: h.database, server: h.server }, h.lagMs / 1000);
    },
  });
  new client.Counter({
    name: 'polyproxy_route_decisions_total',
    help: 'Transactions routed, by role and reason',
    labelNames: ['database', 'role', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of source.routes())
        this.inc({ database: r.database, role: r.role, reason: r.reason }, r.count);
    },
  });
  new client.Counter({
    name: 'polyproxy_statement_cache_lookups_total',
    help: 'Statement classification and parse cache lookups, by cache and result',
    labelNames: ['cache', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      const classify = classifyCacheStats();
      const parse = parseCacheStats();
      this.inc({ cache: 'classify', result: 'hit' }, classify.hits);
      this.inc({ cache: 'classify', result: 'miss' }, classify.misses);
      this.inc({ cache: 'parse', result: 'hit' }, parse.hits);
      this.inc({ cache: 'parse', result: 'miss' }, parse.misses);
    },
  });
  return registry;
}
