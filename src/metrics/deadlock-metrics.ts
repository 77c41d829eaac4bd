// Cross-shard deadlocks the proxy broke, counted as they happen (reported through StatementMetrics).
import client from 'prom-client';

export interface DeadlockBroken {
  database: string;
  /** How it was found: a cycle of waits, or a wait past sharding.lock_wait_limit. */
  found: 'cycle' | 'lock_wait_limit';
}

export function createDeadlockCounter(registry: client.Registry): (event: DeadlockBroken) => void {
  const counter = new client.Counter({
    name: 'polyproxy_cross_shard_deadlocks_total',
    help:
      'Deadlocks between transactions over several shards broken by rolling one back, by database and how ' +
      'they were found (cycle, lock_wait_limit)',
    labelNames: ['database', 'found'],
    registers: [registry],
  });
  return (e) => counter.inc({ database: e.database, found: e.found });
}
