// SHOW SERVERS: one row per server connection, with PgBouncer's column names where the concept is the same.
import type { ConsoleCommand } from './console-command.js';
import { int, text } from './console-result.js';
import { poolViews } from './pool-view.js';

export const showServers: ConsoleCommand = {
  name: 'SHOW SERVERS',
  description: 'one row per server connection: database, server, role, state, backend pid and linked client',
  run(source) {
    const clientOf = new Map<unknown, number>();
    for (const s of source.sessions()) if (s.server) clientOf.set(s.server, s.pid);
    const rows = poolViews(source).flatMap((v) =>
      v.pool
        .connections()
        .map(({ conn, idle }) => [
          'S',
          v.db.config.backend.user,
          v.database,
          idle ? 'idle' : 'active',
          conn.endpoint.host,
          conn.endpoint.port,
          v.shard,
          v.role,
          new Date(conn.createdAt).toISOString(),
          new Date(conn.lastUsedAt).toISOString(),
          conn.pid,
          clientOf.get(conn) ?? null,
          conn.session.preparedCount,
        ]),
    );
    return {
      columns: [
        text('type'),
        text('user'),
        text('database'),
        text('state'),
        text('addr'),
        int('port'),
        int('shard'),
        text('role'),
        text('connect_time'),
        text('request_time'),
        int('remote_pid'),
        int('link'),
        int('prepared_statements'),
      ],
      rows,
      tag: 'SHOW',
    };
  },
};
