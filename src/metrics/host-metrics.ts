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
  new client.Gauge({
    name: 'polyproxy_read_your_writes_scopes',
    help: 'Users (or users and applications) whose last write some replica has not replayed yet: their reads avoid such replicas',
    labelNames: ['database'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of source.readYourWrites()) this.set({ database: r.database }, r.scopes);
    },
  });
  new client.Gauge({
    name: 'polyproxy_read_your_writes_shared_up',
    help: 'Whether read-your-writes positions are shared with other instances through Redis (0: Redis lost, each instance keeps its own)',
    labelNames: ['database'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of source.readYourWrites())
        if (r.sharedUp !== null) this.set({ database: r.database }, r.sharedUp ? 1 : 0);
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
