// SHOW CLIENTS: one row per client session, with PgBouncer's column names where the concept is the same.
import type { ConsoleCommand } from './console-command.js';
import { int, text } from './console-result.js';

/** The session's state under PgBouncer's names: a client on a server connection (or in a plugin's call) is active. */
const pgbouncerState = {
  idle: 'idle',
  waiting: 'waiting',
  bound: 'active',
  plugin: 'active',
  closed: 'closed',
};

export const showClients: ConsoleCommand = {
  name: 'SHOW CLIENTS',
  description:
    'one row per client: user, database, state, address, linked server, statements and transactions',
  run(source) {
    const now = Date.now();
    const rows = [...source.sessions()].map((s) => {
      const peer = source.peer(s.pid);
      const state = pgbouncerState[s.state];
      const link = s.server ? `${s.server.endpoint.host}:${s.server.endpoint.port}` : null;
      return [
        'C',
        s.user,
        s.db.name,
        state,
        peer?.addr ?? null,
        peer?.port ?? null,
        new Date(s.connectedAt).toISOString(),
        Math.floor((now - s.connectedAt) / 1000),
        s.pid,
        link,
        s.server?.pid ?? null,
        peer ? (peer.tls ? 'TLS' : '') : null,
        peer?.applicationName ?? '',
        s.pinned,
        s.stats.queries,
        s.stats.transactions,
      ];
    });
    return {
      columns: [
        text('type'),
        text('user'),
        text('database'),
        text('state'),
        text('addr'),
        int('port'),
        text('connect_time'),
        int('connected_seconds'),
        int('pid'),
        text('link'),
        int('remote_pid'),
        text('tls'),
        text('application_name'),
        text('pinned'),
        int('queries'),
        int('transactions'),
      ],
      rows,
      tag: 'SHOW',
    };
  },
};
