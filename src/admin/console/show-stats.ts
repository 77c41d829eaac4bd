// SHOW STATS: totals per database since start, read from the proxy's metrics (PgBouncer's total_* columns).
import type { Registry } from 'prom-client';
import type { ConsoleCommand } from './console-command.js';
import { int, text } from './console-result.js';

/** Sums a metric's samples per database label; `suffix` picks a histogram's _sum or _count. */
async function perDatabase(registry: Registry, name: string, suffix = ''): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  const metric = registry.getSingleMetric(name);
  if (!metric) return sums;
  for (const v of (await metric.get()).values) {
    const metricName = (v as { metricName?: string }).metricName ?? name;
    if (metricName !== name + suffix) continue;
    const db = String(v.labels.database ?? '');
    sums.set(db, (sums.get(db) ?? 0) + v.value);
  }
  return sums;
}

export const showStats: ConsoleCommand = {
  name: 'SHOW STATS',
  description: 'per database since start: transactions, statements, time in statements and waiting, errors',
  async run(source) {
    const r = source.registry;
    const [xacts, queries, queryTime, waitTime, errors] = await Promise.all([
      perDatabase(r, 'polyproxy_route_decisions_total'),
      perDatabase(r, 'polyproxy_statement_duration_seconds', '_count'),
      perDatabase(r, 'polyproxy_statement_duration_seconds', '_sum'),
      perDatabase(r, 'polyproxy_pool_wait_seconds_total'),
      perDatabase(r, 'polyproxy_statement_errors_total'),
    ]);
    const rows = [...source.databases().keys()].map((db) => {
      const xact = xacts.get(db) ?? 0;
      const query = queries.get(db) ?? 0;
      const queryUs = (queryTime.get(db) ?? 0) * 1e6;
      const waitUs = (waitTime.get(db) ?? 0) * 1e6;
      return [
        db,
        xact,
        query,
        queryUs,
        waitUs,
        errors.get(db) ?? 0,
        query > 0 ? queryUs / query : 0,
        xact > 0 ? waitUs / xact : 0,
      ];
    });
    return {
      columns: [
        text('database'),
        int('total_xact_count'),
        int('total_query_count'),
        int('total_query_time'),
        int('total_wait_time'),
        int('total_errors'),
        int('avg_query_time'),
        int('avg_wait_time'),
      ],
      rows,
      tag: 'SHOW',
    };
  },
};
