// Server health, replica lag and routing decisions, read from the shards at scrape time.
import client from 'prom-client';
import type { MetricsSource } from './metrics-source.js';

export function registerHostMetrics(registry: client.Registry, source: MetricsSource): void {
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
    help: 'Transactions routed, by role and reason (reason "read-your-writes": a read sent to the primary to see its own write)',
    labelNames: ['database', 'role', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of source.routes())
        this.inc({ database: r.database, role: r.role, reason: r.reason }, r.count);
    },
  });
}
