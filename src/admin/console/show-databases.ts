// SHOW DATABASES: one row per configured database and server, with PgBouncer's column names.
import type { ConsoleCommand } from './console-command.js';
import { int, text } from './console-result.js';
import { poolViews } from './pool-view.js';

export const showDatabases: ConsoleCommand = {
  name: 'SHOW DATABASES',
  description:
    'one row per database and server: backend address and database, pool settings, connections, paused, read-your-writes scopes kept',
  run(source) {
    const rows = poolViews(source).map((v) => {
      const c = v.db.config;
      return [
        v.database,
        v.pool.endpoint.host,
        v.pool.endpoint.port,
        c.backend.database,
        c.backend.user,
        v.shard,
        v.role,
        c.pool.size,
        c.pool.min_idle,
        c.pool.mode,
        v.pool.total,
        v.pool.isPaused ? 1 : 0,
        v.db.cluster.sharded ? v.db.cluster.writePositions[v.shard].size : v.db.writePositions.size,
      ];
    });
    return {
      columns: [
        text('name'),
        text('host'),
        int('port'),
        text('database'),
        text('force_user'),
        int('shard'),
        text('role'),
        int('pool_size'),
        int('min_pool_size'),
        text('pool_mode'),
        int('current_connections'),
        int('paused'),
        int('ryw_scopes'),
      ],
      rows,
      tag: 'SHOW',
    };
  },
};
