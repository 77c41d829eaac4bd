// Finds deadlocks between clients' transactions over several shards, which no shard can see, and breaks them.
//
// Client A updates a row on shard 0 then one on shard 1, client B the other way round: shard 0 sees B wait
// for A, shard 1 sees A wait for B, and neither sees a cycle. Every `sharding.deadlock_check_interval`
// while transactions of this database are open (two or more, one over several shards), the proxy reads
// each shard primary's lock waits (pg_blocking_pids), joins them through the transactions it runs, and
// looks for a cycle (wait-graph.ts). A cycle seen twice in a row, with the same transactions on the same
// backends, is a deadlock: the youngest transaction in it is the victim. Its running statements are
// cancelled (their error reaches the client as 40P01, as PostgreSQL's deadlock error does) and its idle
// connections are closed, so its locks go on every shard and the others continue.
// Cycles through transactions this proxy does not run (another instance's) are out of its sight: with
// `sharding.lock_wait_limit` set, a transaction over several shards whose statement waits for a lock
// longer than that is rolled back the same way, as a backstop.
import type { ClusterDatabase } from './cluster-database.js';
import { ServerConnection, type ServerEndpoint, type ServerLogin } from './server-connection.js';
import { errorCodes } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DeadlockBroken } from '../metrics/deadlock-metrics.js';
import type { ShardChannel } from './shard-channel.js';
import { sqlLiteral } from './shard-exec.js';
import { StatementError } from './statement-error.js';
import {
  crossShardCycle,
  cycleOwners,
  describeCycle,
  type BackendNode,
  type WaitStep,
} from './wait-graph.js';
import { errorFields } from './shard-wire.js';

/** A client's open transaction as the detector sees it (a TransactionBlock). */
export interface WatchedTransaction {
  readonly channels: ReadonlyMap<number, ShardChannel>;
  /** Start order: the youngest transaction of a cycle is its victim, as the one with the least work done. */
  readonly seq: number;
  /** Past its last statement: a COMMIT is under way, which is not interrupted. */
  readonly committing: boolean;
  /** Set on a victim: what its COMMIT answers if it gets that far. */
  deadlock: StatementError | null;
}

/** One backend in a snapshot of a server's lock waits. */
interface Seen {
  node: BackendNode<WatchedTransaction>;
  server: string;
  pid: number;
  state: string | null;
  /** Its transaction's start: the same backend in another transaction is another node. */
  xactStart: string | null;
  /** How long its statement has run, when it waits for a lock. */
  runningMs: number | null;
}

type WaitRow = [number, string | null, string | null, string | null, number[] | null, number | null];

interface ShardServer {
  endpoint: ServerEndpoint;
  login: ServerLogin;
  /** Shard index by database name on this server. */
  shards: Map<string, number>;
}

const canceled = errorCodes.queryCanceled.sqlstate;

/** Lock waiters of a server, with the pids of this proxy's transactions there even when they do not wait. */
function waitsSql(pids: number[]): string {
  const ours = pids.length > 0 ? ` OR pid IN (${pids.join(', ')})` : '';
  return (
    'SELECT coalesce(json_agg(json_build_array(pid, state, datname, xact_start::text, ' +
    "CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) END, " +
    "CASE WHEN wait_event_type = 'Lock' THEN extract(epoch FROM clock_timestamp() - query_start) * 1000 END" +
    ")), '[]')::text " +
    `FROM pg_stat_activity WHERE wait_event_type = 'Lock'${ours}`
  );
}

const keyOf = (server: string, pid: number) => `${server}#${pid}`;

export class CrossShardDeadlocks {
  private readonly watched = new Set<WatchedTransaction>();
  private timer: NodeJS.Timeout | null = null;
  private checking = false;
  /** One connection per shard server of the detector's own: the pools may be exhausted by the very clients that wait. */
  private readonly probes = new Map<string, ServerConnection>();

  constructor(
    private readonly db: ClusterDatabase,
    private readonly log: Logger,
  ) {}

  private get intervalMs(): number {
    return this.db.config.sharding?.deadlock_check_interval ?? 0;
  }

  private get lockWaitLimitMs(): number {
    return this.db.config.sharding?.lock_wait_limit ?? 0;
  }

  /** A transaction opened: checks run while any is open. */
  watch(t: WatchedTransaction): void {
    this.watched.add(t);
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** A transaction ended. */
  forget(t: WatchedTransaction): void {
    this.watched.delete(t);
    if (this.watched.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.checking) return;
    for (const p of this.probes.values()) p.close();
    this.probes.clear();
  }

  private tick(): void {
    if (this.checking) return;
    const open = [...this.watched].filter((t) => t.channels.size > 0);
    // A cycle this proxy can see needs two of its transactions, one over several shards; a wait over the
    // limit needs one over several shards (those are the waits that may be in a cycle no server sees).
    const needed = this.lockWaitLimitMs > 0 ? 1 : 2;
    if (open.length < needed || !open.some((t) => t.channels.size > 1)) return;
    this.checking = true;
    this.check(open)
      .catch((err: Error) => this.log.warn('cross-shard deadlock check failed', { err: err.message }))
      .finally(() => {
        this.checking = false;
        if (!this.timer) this.stop();
      });
  }

  /**
   * One check: finds a cycle, confirms it with a second look, and breaks it; else breaks the waits over
   * sharding.lock_wait_limit, the backstop for cycles it cannot see (through another proxy instance's
   * transactions, or sessions of other users). True when it rolled a transaction back.
   */
  private async check(open: WatchedTransaction[]): Promise<boolean> {
    const servers = this.servers();
    const first = await this.snapshot(open, servers);
    const cycle = crossShardCycle([...first.values()].map((s) => s.node));
    // Each server's view is a moment of its own: a cycle is a deadlock only when it is still there.
    const again = cycle && (await this.snapshot(open, servers));
    if (cycle && again && stillThere(cycle, first, again)) {
      const victim = cycleOwners(cycle)
        .filter((t) => this.watched.has(t) && !t.committing)
        .sort((a, b) => b.seq - a.seq)[0];
      if (victim) {
        await this.rollBack(victim, 'cycle', describeDeadlock(cycle, victim), again, servers);
        return true;
      }
    }
    return this.breakLongWaits(first, servers);
  }

  /** Rolls back each transaction over several shards whose statement waits for a lock past the limit. */
  private async breakLongWaits(
    snapshot: Map<string, Seen>,
    servers: Map<string, ShardServer>,
  ): Promise<boolean> {
    const limit = this.lockWaitLimitMs;
    if (limit <= 0) return false;
    const late = new Map<WatchedTransaction, Seen>();
    for (const s of snapshot.values()) {
      const t = s.node.owner;
      if (!t || late.has(t) || t.committing || t.channels.size < 2 || !this.watched.has(t)) continue;
      if (s.node.blockers.length > 0 && (s.runningMs ?? 0) > limit) late.set(t, s);
    }
    for (const [t, s] of late) {
      const where = s.node.shard === null ? 'a shard' : `shard ${s.node.shard}`;
      const detail =
        `a statement waited for a lock on ${where} past sharding.lock_wait_limit (${limit} ms), ` +
        'which may be a deadlock with transactions this proxy does not run';
      await this.rollBack(t, 'lock_wait_limit', detail, snapshot, servers);
    }
    return late.size > 0;
  }

  /** Every shard primary's server (shards may be databases of one server), by `host:port`. */
  private servers(): Map<string, ShardServer> {
    const config = this.db.config;
    const servers = new Map<string, ShardServer>();
    this.db.shards.forEach((shard, i) => {
      const primary = shard.primary();
      if (!primary) return;
      const endpoint = primary.pool.endpoint;
      const server = `${endpoint.host}:${endpoint.port}`;
      const database = config.shards[i].database ?? config.backend.database;
      let s = servers.get(server);
      if (!s) {
        const b = config.backend;
        const login: ServerLogin = {
          user: b.user,
          password: b.password,
          database,
          tls: b.tls,
          connectTimeoutMs: b.connect_timeout,
          params: { application_name: 'polyproxy deadlock check' },
        };
        s = { endpoint, login, shards: new Map() };
        servers.set(server, s);
      }
      s.shards.set(database, i);
    });
    return servers;
  }

  /** Every server's lock waits, with the backends of the open transactions marked as theirs. */
  private async snapshot(
    open: WatchedTransaction[],
    servers: Map<string, ShardServer>,
  ): Promise<Map<string, Seen>> {
    const ours = new Map<string, { owner: WatchedTransaction; shard: number }>();
    for (const t of open)
      for (const c of t.channels.values())
        ours.set(keyOf(c.address, c.conn.pid), { owner: t, shard: c.shard });
    const seen = new Map<string, Seen>();
    await Promise.all(
      [...servers].map(async ([server, s]) => {
        const pids = open.flatMap((t) =>
          [...t.channels.values()].filter((c) => c.address === server).map((c) => c.conn.pid),
        );
        const rows = JSON.parse(await this.query(server, s, waitsSql(pids))) as WaitRow[];
        for (const [pid, state, datname, xactStart, blockers, runningMs] of rows) {
          const key = keyOf(server, pid);
          const own = ours.get(key);
          const shard = own ? own.shard : (s.shards.get(datname ?? '') ?? null);
          const blocking = (blockers ?? []).filter((p) => p > 0).map((p) => keyOf(server, p));
          const node = { key, shard, owner: own?.owner ?? null, blockers: blocking };
          seen.set(key, { node, server, pid, state, xactStart, runningMs });
        }
      }),
    );
    return seen;
  }

  /** The first row's first column of a query on a server, over the detector's own connection there. */
  private async query(server: string, s: ShardServer, sql: string): Promise<string> {
    let probe = this.probes.get(server);
    if (!probe || probe.closed) {
      probe = await ServerConnection.connect(s.endpoint, s.login);
      this.probes.set(server, probe);
    }
    const conn = probe;
    const timeoutMs = this.db.config.routing.check_timeout;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        conn.close();
        reject(new Error(`${server} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      const answer = await Promise.race([conn.queryRow(sql), timeout]);
      if (answer.error || !answer.row) throw new Error(`${server}: ${answer.error ?? 'no answer'}`);
      return answer.row[0] ?? '';
    } catch (err) {
      conn.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Rolls the victim back on every shard: its running statements are cancelled (the error their client
   * gets becomes 40P01, and the cancel ends its transaction there, freeing the locks), then its idle
   * connections are closed. Both only while each backend is still in the transaction the snapshot saw.
   */
  private async rollBack(
    victim: WatchedTransaction,
    found: DeadlockBroken['found'],
    detail: string,
    snapshot: Map<string, Seen>,
    servers: Map<string, ShardServer>,
  ): Promise<void> {
    const error = StatementError.of(
      'deadlockDetected',
      undefined,
      'the transaction was rolled back on every shard: end it with ROLLBACK and retry it',
      detail,
    );
    victim.deadlock = error;
    for (const c of victim.channels.values())
      c.rewriteError = (body) => (errorFields(body).get('C') === canceled ? error.body : null);
    const backends = [...snapshot.values()].filter((s) => s.node.owner === victim && s.xactStart !== null);
    const running = backends.filter((s) => s.state === 'active');
    await this.signal(running, 'pg_cancel_backend', "state = 'active'", servers);
    const idle = backends.filter((s) => s.state !== 'active');
    await this.signal(idle, 'pg_terminate_backend', "state <> 'active'", servers);
    this.db.statementMetrics?.deadlockBroken({ database: this.db.name, found });
    this.log.warn('cross-shard deadlock: rolled a transaction back on every shard', { found, detail });
  }

  /** Sends a signal to each listed backend in `state` that is still in the transaction it was seen in. */
  private async signal(
    backends: Seen[],
    signal: 'pg_cancel_backend' | 'pg_terminate_backend',
    state: string,
    servers: Map<string, ShardServer>,
  ): Promise<void> {
    const byServer = new Map<string, Seen[]>();
    for (const b of backends) byServer.set(b.server, [...(byServer.get(b.server) ?? []), b]);
    await Promise.all(
      [...byServer].map(async ([server, list]) => {
        const s = servers.get(server);
        if (!s) return;
        const pairs = list.map((b) => `(${b.pid}, ${sqlLiteral(b.xactStart!)})`).join(', ');
        await this.query(
          server,
          s,
          `SELECT count(${signal}(pid)) FROM pg_stat_activity WHERE ${state} AND (pid, xact_start::text) IN (${pairs})`,
        );
      }),
    );
  }
}

/** The 40P01 detail of a cycle: the shards it spans and who waits for whom. */
function describeDeadlock(cycle: WaitStep<WatchedTransaction>[], victim: WatchedTransaction): string {
  const shards = [...new Set(cycle.flatMap((s) => (s.kind === 'lock' ? [s.from.shard ?? -1] : [])))]
    .filter((s) => s >= 0)
    .sort((a, b) => a - b);
  return `cross-shard deadlock over shards ${shards.join(', ')}: ${describeCycle(cycle, victim)}`;
}

/** Every step of the cycle is seen again, each backend in the same transaction as before. */
function stillThere(
  cycle: WaitStep<WatchedTransaction>[],
  first: Map<string, Seen>,
  again: Map<string, Seen>,
): boolean {
  const same = (key: string) => {
    const a = first.get(key);
    const b = again.get(key);
    return !!a && !!b && a.xactStart === b.xactStart && a.node.owner === b.node.owner;
  };
  return cycle.every(
    (step) =>
      same(step.from.key) &&
      same(step.to.key) &&
      (step.kind === 'link' || again.get(step.from.key)!.node.blockers.includes(step.to.key)),
  );
}
