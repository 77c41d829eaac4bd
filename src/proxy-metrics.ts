// What the proxy's metrics read at each scrape: clients per database, hosts, route counts, read-your-writes, pools.
import type { Database } from './backend/database.js';
import type { Listener } from './frontend/listener.js';
import type { MetricsSource } from './metrics/metrics.js';

/** Reads the live maps at each scrape, so databases added or replaced by a reload are counted at once. */
export function metricsSource(databases: Map<string, Database>, listener: Listener): MetricsSource {
  const all = () => [...databases.values()];
  return {
    clients: () => {
      const counts = new Map<string, number>();
      for (const s of listener.sessions.values()) counts.set(s.db.name, (counts.get(s.db.name) ?? 0) + 1);
      return [...counts].map(([database, count]) => ({ database, count }));
    },
    hosts: () =>
      all().flatMap((db) =>
        db.shards
          .flatMap((shard) => shard.describe())
          .map((h) => ({
            database: db.name,
            server: h.label,
            role: h.role,
            healthy: h.healthy,
            lagMs: h.lagMs,
          })),
      ),
    routes: () =>
      all().flatMap((db) =>
        db.shards
          .flatMap((shard) => [...shard.routeCounts()])
          .map(([key, count]) => {
            const [role, reason] = key.split('\u0000');
            return { database: db.name, role, reason, count };
          }),
      ),
    readYourWrites: () =>
      all().map((db) => ({
        database: db.name,
        scopes: db.writePositions.size,
        sharedUp: db.sharedPositions ? db.sharedPositions.up : null,
      })),
    pools: () =>
      all().flatMap((db) =>
        db.shards
          .flatMap((shard) => shard.hosts)
          .map(({ pool, label }) => ({
            database: db.name,
            server: label,
            active: pool.total - pool.idleCount,
            idle: pool.idleCount,
            waiting: pool.waiting,
            size: pool.options.size,
            paused: pool.isPaused,
            stats: pool.stats,
          })),
      ),
  };
}
