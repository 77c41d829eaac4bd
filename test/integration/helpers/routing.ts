// Helpers for routing tests: a database config over a real primary and its replicas, and client loops.
import type pg from 'pg';
import { stringify } from 'yaml';
import type { PgServer } from '../../../src/sandbox/postgres.js';
import { connect, sleep, within } from './tools.js';
import { waitFor } from '../../../src/sandbox/wait.js';

export interface RoutingDatabaseOptions {
  /** Database name clients connect to (default `app`). */
  name?: string;
  /** Password of the servers' `postgres` superuser. */
  password: string;
  primary: PgServer;
  replicas: PgServer[];
  role?: 'auto';
  poolSize?: number;
  acquireTimeout?: string;
  /** Entries of the database's `routing:` section, e.g. `{ max_replica_lag: '100ms' }`. */
  routing?: Record<string, unknown>;
}

/** The YAML lines of one transaction-pooled database, indented for `databases:` (see TestProxyOptions.databasesYaml). */
export function routingDatabasesYaml(o: RoutingDatabaseOptions): string {
  const address = (s: PgServer) => `${s.host}:${s.port}`;
  const db = {
    backend: { user: 'postgres', password: o.password, database: 'app', connect_timeout: '2s' },
    pool: { mode: 'transaction', size: o.poolSize ?? 4, acquire_timeout: o.acquireTimeout ?? '5s' },
    shards: [
      {
        primary: address(o.primary),
        replicas: o.replicas.map(address),
        ...(o.role ? { role: o.role } : {}),
      },
    ],
    routing: o.routing ?? {},
  };
  return stringify({ [o.name ?? 'app']: db })
    .split('\n')
    .map((line) => (line ? `  ${line}` : line))
    .join('\n');
}

/** Connection settings straight to one server, bypassing the proxy. */
export function directTo(server: PgServer, database = 'app'): pg.ClientConfig {
  return { host: server.host, port: server.port, user: 'postgres', password: server.password, database };
}

/** The port of the server that answered, from a query returning a `port` column. */
export async function portOf(
  c: pg.Client,
  sql = 'SELECT inet_server_port() AS port',
  values?: unknown[],
): Promise<number> {
  const r = await c.query(sql, values);
  return r.rows[0].port as number;
}

/** How often each value occurs. */
export function tally<T>(values: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** Ends a client; if the proxy does not let it go, drops its socket. */
export async function discard(client: pg.Client): Promise<void> {
  await within(client.end(), 2000, 'end').catch(() => {
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  });
}

export interface LoopOutcome<T> {
  startedAt: number;
  value?: T;
  error?: Error & { code?: string };
}

/**
 * Runs `op` over and over on one client through `config` until stopped, recording every outcome with its
 * start time. After an error (the server connection may be gone) it opens a new client, as an application
 * would; a failed connect counts as an outcome too. An operation without an answer after `timeoutMs` counts
 * as an error (`no answer within`), so a hung session shows up in the outcomes instead of hanging the test.
 */
export class ClientLoop<T> {
  readonly outcomes: LoopOutcome<T>[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly op: (c: pg.Client) => Promise<T>,
    private readonly pauseMs = 10,
    private readonly timeoutMs = 5000,
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    let client: pg.Client | null = null;
    while (!this.stopped) {
      const startedAt = Date.now();
      try {
        client ??= await within(connect(this.config), this.timeoutMs, 'connect');
        const value = await within(this.op(client), this.timeoutMs, 'operation');
        this.outcomes.push({ startedAt, value });
      } catch (err) {
        this.outcomes.push({ startedAt, error: err as Error & { code?: string } });
        const dead = client;
        client = null;
        if (dead) await discard(dead);
        await sleep(50);
      }
      await sleep(this.pauseMs);
    }
    if (client) await discard(client);
  }

  values(since = 0): T[] {
    return this.outcomes
      .filter((o) => o.startedAt >= since && o.error === undefined)
      .map((o) => o.value as T);
  }

  errors(since = 0): LoopOutcome<T>[] {
    return this.outcomes.filter((o) => o.startedAt >= since && o.error !== undefined);
  }

  /** The last `n` successful values. */
  lastValues(n: number): T[] {
    return this.values().slice(-n);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** Waits until every replica has replayed what the primary has written so far. */
export async function replicasCaughtUp(servers: { primary: PgServer; replicas: PgServer[] }): Promise<void> {
  const lsn = await servers.primary.psql('SELECT pg_current_wal_lsn()');
  for (const r of servers.replicas) {
    await waitFor(async () => (await r.psql(`SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn`)) === 't', {
      what: `replica ${r.port} to replay ${lsn}`,
      timeoutMs: 30_000,
    });
  }
}
