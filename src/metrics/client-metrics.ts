// Client connection gauges, read at scrape time.
import client from 'prom-client';
import type { MetricsSource } from './metrics-source.js';

export function registerClientMetrics(registry: client.Registry, source: MetricsSource): void {
  new client.Gauge({
    name: 'polyproxy_client_connections',
    help: 'Client connections currently open, by database',
    labelNames: ['database'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of source.clients()) this.set({ database: c.database }, c.count);
    },
  });
}
