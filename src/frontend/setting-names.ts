// Refuses startup parameters PostgreSQL would refuse by name, from the setting names each database's server knows.
import type { Database } from '../backend/database.js';
import { ProxyError } from '../errors.js';
import type { Logger } from '../logger.js';

/** A custom setting (`myapp.x`): two or more identifiers joined by dots, as PostgreSQL accepts them. */
const customName =
  /^[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*(?:\.[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*)+$/;

/** Names found unknown that a database remembers; past this, they are asked again (by logged-in users only). */
const maxRemembered = 1000;

const namesOf = new WeakMap<Database, SettingNames>();

/**
 * The error PostgreSQL ends a login with when a startup setting's name is not one it knows (42704), or is a
 * malformed custom name (42602); null when every name is fine. Values are left to the server, as before.
 */
export async function refusedSetting(
  db: Database,
  settings: Iterable<string>,
  log: Logger,
): Promise<ProxyError | null> {
  let names = namesOf.get(db);
  if (!names) namesOf.set(db, (names = new SettingNames(db, log)));
  for (const name of settings) {
    if (name.includes('.')) {
      if (customName.test(name)) continue;
      return new ProxyError(
        'invalidName',
        `invalid configuration parameter name "${name}"`,
        'Custom parameter names must be two or more simple identifiers separated by dots.',
        'FATAL',
      );
    }
    if (!(await names.knows(name.toLowerCase())))
      return new ProxyError(
        'undefinedObject',
        `unrecognized configuration parameter "${name}"`,
        undefined,
        'FATAL',
      );
  }
  return null;
}

/**
 * The setting names of one database's server: pg_settings, read once. A name missing there may still exist
 * (pg_settings hides a few, such as `role` and `seed`), so the server is asked about it before a login is
 * refused. When the server cannot tell (or no connection is free), the name passes: the check never turns an
 * outage or a busy pool into a refusal (the server then refuses the setting when it is replayed, in the log).
 */
class SettingNames {
  private known: Set<string> | null = null;
  private loading: Promise<Set<string> | null> | null = null;
  private readonly unknown = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
  ) {}

  async knows(name: string): Promise<boolean> {
    const known = this.known ?? (await this.load());
    if (!known || known.has(name)) return true;
    if (this.unknown.has(name)) return false;
    const answer = await this.query(`SELECT pg_catalog.current_setting(${literal(name)}, true) IS NOT NULL`);
    if (answer === null || answer === 't') {
      known.add(name);
      return true;
    }
    if (this.unknown.size >= maxRemembered) this.unknown.clear();
    this.unknown.add(name);
    return false;
  }

  private load(): Promise<Set<string> | null> {
    this.loading ??= this.query("SELECT pg_catalog.string_agg(name, ' ') FROM pg_catalog.pg_settings").then(
      (names) => {
        this.loading = null;
        if (names === null) return null;
        this.known = new Set(names.split(' '));
        return this.known;
      },
    );
    return this.loading;
  }

  /**
   * The first column of a query's one row, run on a connection of the database's primary; null on failure,
   * and when no connection is free now: a login never waits behind a busy or paused pool for this check.
   */
  private async query(sql: string): Promise<string | null> {
    const pool = (this.db.shard.primary() ?? this.db.shard.hosts[0]).pool;
    let conn = pool.tryAcquire();
    if (!conn && !pool.isPaused && pool.total < pool.options.size)
      conn = await pool.acquire().catch(() => null);
    if (!conn) return null;
    try {
      const { error, row } = await conn.queryRow(sql);
      if (error) this.log.warn('could not read setting names', { database: this.db.name, error });
      return error ? null : (row?.[0] ?? null);
    } finally {
      pool.release(conn);
    }
  }
}

/** An escape string literal: safe whatever standard_conforming_strings is. */
function literal(value: string): string {
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
