// Cross-shard deadlocks the proxy found and broke, read from the detector's counts at scrape time.
import client from 'prom-client';
import { deadlocksByDatabase } from '../frontend/sharded/cross-shard-deadlocks.js';

export function registerDeadlockMetrics(registry: client.Registry): void {
  new client.Counter({
    name: 'polyproxy_cross_shard_deadlocks_total',
    help: 'Deadlocks between transactions over several shards, found and broken by rolling one back, by database',
    labelNames: ['database'],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of deadlocksByDatabase()) this.inc({ database: d.database }, d.count);
    },
  });
}
