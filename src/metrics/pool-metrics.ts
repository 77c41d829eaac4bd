// Pool gauges and counters per database and server, read from the pools at scrape time.
import client from 'prom-client';
import type { MetricsSource, PoolStats } from './metrics-source.js';

const counters: [keyof PoolStats, string, string][] = [
  ['acquired', 'polyproxy_pool_acquisitions_total', 'Server connections handed to clients'],
  ['waited', 'polyproxy_pool_waits_total', 'Acquisitions that had to wait for a connection'],
  ['timeouts', 'polyproxy_pool_timeouts_total', 'Clients that gave up waiting for a connection'],
  ['created', 'polyproxy_server_connects_total', 'Server connections opened'],
  ['closed', 'polyproxy_server_disconnects_total', 'Server connections closed by the proxy'],
];

export function registerPoolMetrics(registry: client.Registry, source: MetricsSource): void {
  const labelNames = ['database', 'server'];
  new client.Gauge({
    name: 'polyproxy_server_connections',
    help: 'Server connections per pool and state (active: held by a client, idle: in the pool)',
    labelNames: [...labelNames, 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of source.pools()) {
        this.set({ database: p.database, server: p.server, state: 'active' }, p.active);
        this.set({ database: p.database, server: p.server, state: 'idle' }, p.idle);
      }
    },
  });
  const gauge = (
    name: string,
    help: string,
    value: (p: ReturnType<MetricsSource['pools']>[number]) => number,
  ) =>
    new client.Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const p of source.pools()) this.set({ database: p.database, server: p.server }, value(p));
      },
    });
  gauge('polyproxy_pool_waiting_clients', 'Clients waiting for a server connection', (p) => p.waiting);
  gauge('polyproxy_pool_max_connections', 'The pool size limit (pool.size)', (p) => p.size);
  gauge('polyproxy_pool_paused', 'Whether the admin console paused the pool (PAUSE): 1 paused, 0 not', (p) =>
    p.paused ? 1 : 0,
  );
  for (const [key, name, help] of counters) {
    new client.Counter({
      name,
      help,
      labelNames,
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
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const p of source.pools())
        this.inc({ database: p.database, server: p.server }, p.stats.waitMsTotal / 1000);
    },
  });
}
