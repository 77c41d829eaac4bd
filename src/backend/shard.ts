// One shard: its primary and replicas, each with a pool and a monitor, and the choice of server per route.
import type { DatabaseConfig } from '../config/schema.js';
import { parseHostPort } from '../config/host-port.js';
import { sqlLiteral } from './shard-exec.js';
import type { Logger } from '../logger.js';
import type { RouteDecision } from '../router/route-decision.js';
import { Balancer } from './balancer.js';
import { HostMonitor } from './host-monitor.js';
import { LagTracker } from './lag-tracker.js';
import { formatLsn } from './lsn.js';
import { Pool } from './pool.js';
import { elect, epochTable, type Election } from './primary-election.js';
import { BackendError, type ServerLogin } from './server-connection.js';

/** After the epoch record could not be written, how long before trying again (the election does not wait for it). */
const recordRetryMs = 10_000;

/**
 * Creates the epoch table. Instances that create it at once would collide on the catalog's unique index, so
 * each takes a transaction advisory lock first ("ppepoch" in ASCII) and then finds the other's table.
 */
const createEpochTableSql =
  `SELECT pg_advisory_xact_lock(${0x7070_6570_6f63_68n}); ` +
  'CREATE SCHEMA IF NOT EXISTS polyproxy; ' +
  `CREATE TABLE IF NOT EXISTS ${epochTable} (timeline bigint PRIMARY KEY, host text NOT NULL, ` +
  'chosen_at timestamptz NOT NULL DEFAULT now()); ';

export interface Host {
  address: string;
  /** How metrics and the admin console name it: host:port, with /database when the shard names its own. */
  label: string;
  /** Listed as the primary in the config (with role: auto any host may become primary). */
  configuredPrimary: boolean;
  weight: number;
  pool: Pool;
  monitor: HostMonitor;
  load(): number;
}

export interface RouteChoice {
  host: Host;
  decision: RouteDecision;
  /** Transactions that ran with this choice (counted by the session when it binds). */
  count: number;
}

export class Shard {
  readonly hosts: Host[];
  readonly tracker: LagTracker;
  private readonly balancer: Balancer;
  private readonly auto: boolean;
  private timer: NodeJS.Timeout | null = null;
  /** role: auto: the last election over the hosts' facts, and the host it chose (see primary-election.ts). */
  private election: Election = { kind: 'none', floor: 0, why: 'the servers have not been checked yet' };
  private elected: Host | null = null;
  /** The outcome last logged, so that a change (and the first outcome) is logged once. */
  private announced = '';
  /** Epoch records being written or that failed, by host and timeline: when to try again. */
  private recordTries = new Map<string, number>();
  private checkedListeners = new Set<() => void>();
  /** One choice object per host and reason, reused: routing allocates nothing per transaction. */
  private choices = new Map<Host, Map<string, RouteChoice>>();
  private joinedReasons = new Map<string, Map<string, string>>();

  constructor(
    readonly index: number,
    private readonly config: DatabaseConfig,
    private readonly log: Logger,
  ) {
    const shard = config.shards[index];
    const b = config.backend;
    const p = config.pool;
    const r = config.routing;
    const login: ServerLogin = {
      user: b.user,
      password: b.password,
      database: shard.database ?? b.database,
      tls: b.tls,
      connectTimeoutMs: b.connect_timeout,
    };
    const poolOptions = {
      size: p.size,
      minIdle: p.min_idle,
      acquireTimeoutMs: p.acquire_timeout,
      idleTimeoutMs: p.idle_timeout,
      lifetimeMs: p.lifetime,
      healthCheckIntervalMs: p.health_check_interval,
    };
    this.auto = shard.role === 'auto';
    this.hosts = [shard.primary, ...shard.replicas].map((address, i) => {
      const pool = new Pool(parseHostPort(address), login, poolOptions, log.child({ server: address }));
      return {
        address,
        label: shard.database ? `${address}/${shard.database}` : address,
        configuredPrimary: i === 0,
        weight: r.replica_weights[address] ?? 1,
        pool,
        monitor: new HostMonitor(address, login, r.check_timeout, log, this.auto),
        load: () => pool.total - pool.idleCount + pool.waiting,
      };
    });
    this.tracker = new LagTracker(Math.max(60_000, r.max_replica_lag * 4));
    this.balancer = new Balancer(r.load_balance);
  }

  /** Checks every server once, then keeps checking them in the background. */
  async start(): Promise<void> {
    // A lone primary has nothing to choose between: its pool's own health checks are enough.
    if (!this.monitored) return;
    await this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), this.config.routing.check_interval);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const h of this.hosts) h.monitor.close();
    await Promise.all(this.hosts.map((h) => h.pool.close()));
  }

  /** Read-your-writes has something to do only when reads can go elsewhere than the primary. */
  get hasReplicas(): boolean {
    return this.hosts.length > 1;
  }

  /** Servers are watched only when there is a choice to make: replicas, or a primary that may move. */
  private get monitored(): boolean {
    return this.hosts.length > 1 || this.auto;
  }

  /**
   * The server that takes writes: known not to be in recovery; the configured one, or with role: auto the
   * one the last election chose (a host that missed a check since is not replaced, only unavailable).
   */
  primary(): Host | null {
    if (!this.monitored) return this.hosts[0];
    const writable = (h: Host) => h.monitor.status.healthy && h.monitor.status.inRecovery === false;
    if (this.auto) return this.elected && writable(this.elected) ? this.elected : null;
    const configured = this.hosts[0];
    if (writable(configured)) return configured;
    // Not yet checked: trust the config rather than refuse writes during start-up.
    return configured.monitor.status.checkedAt === 0 ? configured : null;
  }

  /** What a write is answered when primary() has none: why there is no primary, as far as the proxy knows. */
  noPrimaryError(): BackendError {
    const e = this.election;
    if (e.kind === 'conflict') return new BackendError(e.why, 'primaryConflict');
    const why = this.auto && e.kind === 'none' ? ` (${e.why})` : '';
    return new BackendError(
      `no primary server is available; retry once failover completes${why}`,
      'backendUnavailable',
    );
  }

  lagMs(h: Host): number | null {
    const s = h.monitor.status;
    if (s.inRecovery !== true || s.lsn === null) return null;
    return this.tracker.lagMs(s.lsn);
  }

  /**
   * The lowest position every replica has replayed, or null while any replica is down or unknown (it may
   * come back behind): positions at or below it constrain no read.
   */
  replayedEverywhere(): bigint | null {
    let low: bigint | null = null;
    for (const h of this.hosts) {
      const s = h.monitor.status;
      if (s.inRecovery === false) continue;
      if (!s.healthy || s.inRecovery !== true || s.lsn === null) return null;
      if (low === null || s.lsn < low) low = s.lsn;
    }
    return low;
  }

  /** Replicas fit for a read: up, in recovery, within max lag and, when given, replayed past minLsn. */
  usableReplicas(minLsn: bigint | null): Host[] {
    return this.hosts.filter((h) => this.usable(h, minLsn));
  }

  private usable(h: Host, minLsn: bigint | null): boolean {
    const s = h.monitor.status;
    if (!s.healthy || s.inRecovery !== true || s.lsn === null) return false;
    if (this.tracker.lagMs(s.lsn) > this.config.routing.max_replica_lag) return false;
    return minLsn === null || s.lsn >= minLsn;
  }

  /** Where a statement runs: writes to the primary, reads to a usable replica (or the primary). */
  choose(
    access: 'read' | 'write',
    reason: string,
    minLsn: bigint | null,
    exclude?: Set<string>,
  ): RouteChoice | null {
    const primary = this.primary();
    if (access === 'write') return primary ? this.choice(primary, 'primary', reason) : null;
    // One server and no replica (the usual unsharded database): every read goes to it, with no list to build.
    if (this.hosts.length === 1 && primary && !this.usable(primary, null)) {
      if (this.config.routing.primary_reads) return this.choice(primary, 'primary', reason);
      return this.choice(primary, 'primary', this.joined(reason, 'no-usable-replica'));
    }
    let candidates = this.usableReplicas(minLsn);
    if (exclude) candidates = candidates.filter((h) => !exclude.has(h.address));
    if (this.config.routing.primary_reads && primary) candidates.push(primary);
    if (candidates.length > 0) {
      const host = this.balancer.pick(candidates);
      return this.choice(host, host === primary ? 'primary' : 'replica', reason);
    }
    if (!primary) return null;
    const why =
      minLsn !== null && this.usableReplicas(null).length > 0 ? 'read-your-writes' : 'no-usable-replica';
    return this.choice(primary, 'primary', this.joined(reason, why));
  }

  /** `reason,why`, made once per pair: the choice cache then looks up a string whose hash is known. */
  private joined(reason: string, why: string): string {
    let byWhy = this.joinedReasons.get(reason);
    if (!byWhy) this.joinedReasons.set(reason, (byWhy = new Map()));
    let text = byWhy.get(why);
    if (text === undefined) byWhy.set(why, (text = `${reason},${why}`));
    return text;
  }

  private choice(host: Host, role: 'primary' | 'replica', reason: string): RouteChoice {
    let byReason = this.choices.get(host);
    if (!byReason) this.choices.set(host, (byReason = new Map()));
    let choice = byReason.get(reason);
    if (!choice || choice.decision.role !== role) {
      choice = { host, decision: { role, shard: this.index, host: host.address, reason }, count: 0 };
      byReason.set(reason, choice);
    }
    return choice;
  }

  /** Transactions routed since start, by role and the last part of the reason (for metrics). */
  routeCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const byReason of this.choices.values()) {
      for (const c of byReason.values()) {
        const key = `${c.decision.role}\u0000${c.decision.reason.split(',').at(-1)}`;
        counts.set(key, (counts.get(key) ?? 0) + c.count);
      }
    }
    return counts;
  }

  private async checkAll(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.monitor.check()));
    if (this.auto) this.electPrimary();
    const primary = this.primary();
    const lsn = primary?.monitor.status.lsn;
    if (lsn != null) this.tracker.record(lsn);
    for (const listener of [...this.checkedListeners]) listener();
  }

  private electPrimary(): void {
    const facts = this.hosts.map((h) => {
      const s = h.monitor.status;
      const { timeline, recorded, upstream } = s;
      return { address: h.address, up: s.healthy, inRecovery: s.inRecovery, timeline, recorded, upstream };
    });
    const next = elect(facts, this.election.floor);
    this.election = next;
    this.elected =
      next.kind === 'elected' ? (this.hosts.find((h) => h.address === next.address) ?? null) : null;
    if (outcomeOf(next) !== this.announced) {
      this.announced = outcomeOf(next);
      if (next.kind === 'elected')
        this.log.info('primary elected', {
          server: next.address,
          timeline: next.timeline,
          shard: this.index,
        });
      else if (next.kind === 'conflict')
        this.log.error('writes refused: several hosts claim to be primary', {
          shard: this.index,
          why: next.why,
        });
      else this.log.warn('no primary', { shard: this.index, why: next.why });
    }
    if (this.elected && next.kind === 'elected') this.recordEpoch(this.elected, next.timeline);
  }

  /** Writes the election into the primary's epoch table (it replicates, so every instance and restart sees it). */
  private recordEpoch(host: Host, timeline: number): void {
    const s = host.monitor.status;
    if (s.recorded && s.recorded.timeline >= timeline) return;
    const key = `${host.address}@${timeline}`;
    if ((this.recordTries.get(key) ?? 0) > Date.now()) return;
    this.recordTries.set(key, Infinity);
    // Local commit: a synchronous standby that is down must not hold the record (the next check reads it back).
    const sql =
      'SET LOCAL synchronous_commit = local; ' +
      (s.hasEpochTable ? '' : createEpochTableSql) +
      `INSERT INTO ${epochTable} (timeline, host) VALUES (${timeline}, ${sqlLiteral(host.address)}) ` +
      'ON CONFLICT (timeline) DO NOTHING';
    void host.monitor.runAside(sql).then((error) => {
      if (!error) return this.recordTries.delete(key);
      this.recordTries.set(key, Date.now() + recordRetryMs);
      this.log.warn('could not record the elected primary', { server: host.address, timeline, error });
    });
  }

  /** Resolves true once some usable replica has replayed minLsn, or false after waitMs. */
  waitForReplica(minLsn: bigint, waitMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (found: boolean) => {
        clearTimeout(timer);
        this.checkedListeners.delete(check);
        resolve(found);
      };
      const check = () => {
        if (this.usableReplicas(minLsn).length > 0) done(true);
      };
      const timer = setTimeout(() => done(false), waitMs);
      this.checkedListeners.add(check);
    });
  }

  /** Per-host state for SHOW-style output and metrics. */
  describe(): {
    address: string;
    label: string;
    role: string;
    healthy: boolean;
    lsn: string | null;
    lagMs: number | null;
    replayAgeMs: number | null;
  }[] {
    const primary = this.primary();
    return this.hosts.map((h) => ({
      address: h.address,
      label: h.label,
      role: h === primary ? 'primary' : h.monitor.status.inRecovery ? 'replica' : 'unknown',
      healthy: this.monitored ? h.monitor.status.healthy : h.pool.lastError === null,
      lsn: h.monitor.status.lsn === null ? null : formatLsn(h.monitor.status.lsn),
      lagMs: this.lagMs(h),
      replayAgeMs: h.monitor.status.replayAgeMs,
    }));
  }
}

/** What an election decided, without its reasons: a change of it is worth a log line. */
function outcomeOf(e: Election): string {
  return e.kind === 'elected'
    ? `elected ${e.address}`
    : e.kind === 'conflict'
      ? `conflict ${e.hosts.join(' ')}`
      : 'none';
}
