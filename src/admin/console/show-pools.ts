// SHOW POOLS: one row per pool (a database's server), with PgBouncer's client and server counts.
import type { ConsoleCommand } from './console-command.js';
import { int, text } from './console-result.js';
import { activeCount, poolViews } from './pool-view.js';

export const showPools: ConsoleCommand = {
  name: 'SHOW POOLS',
  description: 'one row per database and server: clients linked and waiting, server connections by state',
  run(source) {
    const sessions = [...source.sessions()];
    const now = Date.now();
    const rows = poolViews(source).map((v) => {
      const linked = sessions.filter(
        (s) => s.server !== null && s.server.endpoint === v.pool.endpoint,
      ).length;
      const waitMs = v.pool.oldestWaitMs(now);
      return [
        v.database,
        v.db.config.backend.user,
        v.server,
        v.shard,
        v.role,
        linked,
        v.pool.waiting,
        activeCount(v.pool),
        v.pool.idleCount,
        v.pool.connectingCount,
        Math.floor(waitMs / 1000),
        (waitMs % 1000) * 1000,
        v.db.mode,
        v.pool.isPaused ? 1 : 0,
      ];
    });
    return {
      columns: [
        text('database'),
        text('user'),
        text('server'),
        int('shard'),
        text('role'),
        int('cl_active'),
        int('cl_waiting'),
        int('sv_active'),
        int('sv_idle'),
        int('sv_login'),
        int('maxwait'),
        int('maxwait_us'),
        text('pool_mode'),
        int('paused'),
      ],
      rows,
      tag: 'SHOW',
    };
  },
};
