// The server databases whose change streams a plugin reads: one per server database, whichever proxy databases
// (or shards) name it, with its login and a replication slot name unique on its server.
import type { PluginDatabase } from '../plugins/api.js';
import type { ServerLogin } from './stream-lock.js';

export interface StreamSource {
  readonly server: ServerLogin;
  /** The slot's name: the configured one, with `_<database>` appended where one server holds several databases. */
  readonly slot: string;
  /** The proxy databases this server database belongs to. */
  readonly feeds: Set<string>;
}

const slotSafe = (name: string) => name.toLowerCase().replace(/[^a-z0-9_]/g, '_');

export function streamSources(databases: readonly PluginDatabase[], slot: string): StreamSource[] {
  const byKey = new Map<
    string,
    { login: PluginDatabase; host: string; port: number; database: string; feeds: Set<string> }
  >();
  for (const db of databases) {
    for (const primary of db.primaries) {
      const key = `${primary.host}:${primary.port}/${primary.database}`;
      let source = byKey.get(key);
      if (!source) {
        source = { ...primary, login: db, feeds: new Set() };
        byKey.set(key, source);
      }
      source.feeds.add(db.name);
    }
  }
  const all = [...byKey.values()];
  return all.map(({ host, port, database, login, feeds }) => {
    // Slot names are per server: where one server holds several databases, each slot names its database.
    const shared = all.filter((s) => s.host === host && s.port === port).length > 1;
    const server = {
      host,
      port,
      database,
      user: login.user,
      password: login.password,
      connectTimeoutMs: login.connectTimeoutMs,
    };
    return { server, slot: shared ? `${slot}_${slotSafe(database)}`.slice(0, 63) : slot, feeds };
  });
}
