// Watches one PostgreSQL server: up or down, primary or in recovery, and how far it has replayed.
import { parseHostPort } from '../config/host-port.js';
import type { Logger } from '../logger.js';
import { parseLsn } from './lsn.js';
import { epochTable, parseTimeline, type EpochRecord } from './primary-election.js';
import { ServerConnection, type ServerLogin } from './server-connection.js';

/** One query answers everything the router needs; the replay time is kept for operators. */
const checkSql =
  'SELECT pg_is_in_recovery(), ' +
  'CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, ' +
  'EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000';

/**
 * What electing a primary adds: the timeline (on a primary the one its WAL is written on, which a promotion
 * changes at once; on a replica the newest it has reached by any account), whom a replica streams from, and
 * whether the epoch table exists (read with a second query, since a query naming a missing table fails).
 */
const electionSql =
  `${checkSql}, ` +
  'CASE WHEN pg_is_in_recovery() THEN GREATEST((pg_control_checkpoint()).timeline_id, ' +
  '(pg_control_recovery()).min_recovery_end_timeline, (SELECT received_tli FROM pg_stat_wal_receiver))::text ' +
  'ELSE pg_walfile_name(pg_current_wal_lsn()) END, ' +
  "(SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'), " +
  `to_regclass('${epochTable}') IS NOT NULL`;

const epochSql = `SELECT timeline, host FROM ${epochTable} ORDER BY timeline DESC LIMIT 1`;

export interface HostStatus {
  address: string;
  healthy: boolean;
  /** null until the first successful check. */
  inRecovery: boolean | null;
  /** Current WAL position on a primary, replay position on a replica. */
  lsn: bigint | null;
  /** Milliseconds since the last transaction this replica replayed was committed (operators' view). */
  replayAgeMs: number | null;
  checkedAt: number;
  error: string | null;
  /** Only checked for shards with role: auto (see primary-election.ts); null otherwise or when unknown. */
  timeline: number | null;
  /** host:port this replica streams from (null when it does not stream or the login may not see it). */
  upstream: string | null;
  /** Whether the epoch table exists on this host, and its newest entry. */
  hasEpochTable: boolean;
  recorded: EpochRecord | null;
}

export class HostMonitor {
  readonly status: HostStatus;
  private conn: ServerConnection | null = null;
  private checking = false;

  constructor(
    address: string,
    private readonly login: ServerLogin,
    private readonly timeoutMs: number,
    private readonly log: Logger,
    /** Also learn what electing a primary needs (role: auto). */
    private readonly electing = false,
  ) {
    this.status = {
      address,
      healthy: false,
      inRecovery: null,
      lsn: null,
      replayAgeMs: null,
      checkedAt: 0,
      error: null,
      timeline: null,
      upstream: null,
      hasEpochTable: false,
      recorded: null,
    };
  }

  /** Runs one check; resolves when it is done, never rejects. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const { row, epoch } = await withTimeout(this.query(), this.timeoutMs);
      const [recovery, lsn, age, timeline, upstream, hasEpochTable] = row;
      this.update({
        healthy: true,
        inRecovery: recovery === 't',
        lsn: parseLsn(lsn),
        replayAgeMs: age === null ? null : Number(age),
        error: null,
        timeline: parseTimeline(timeline ?? null),
        upstream: upstream ?? null,
        hasEpochTable: hasEpochTable === 't',
        recorded: epoch,
      });
    } catch (err) {
      this.conn?.close();
      this.conn = null;
      this.update({ healthy: false, error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.checking = false;
    }
  }

  /** Marks the host down at once, for example when a pooled connection to it failed. */
  markDown(reason: string): void {
    this.update({ healthy: false, error: reason });
  }

  close(): void {
    this.conn?.close();
    this.conn = null;
  }

  /**
   * Runs statements on a connection of its own, so that a write waiting (for a synchronous standby, a lock)
   * never delays the checks; resolves to the server's error message, if any.
   */
  async runAside(sql: string): Promise<string | undefined> {
    let conn: ServerConnection | null = null;
    try {
      // Connecting has its own time limit (connect_timeout); the statements get the longer of both.
      conn = await ServerConnection.connect(parseHostPort(this.status.address), this.login);
      return await withTimeout(conn.query(sql), Math.max(this.timeoutMs, this.login.connectTimeoutMs));
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      conn?.close();
    }
  }

  private async query(): Promise<{ row: (string | null)[]; epoch: EpochRecord | null }> {
    if (!this.conn || this.conn.closed)
      this.conn = await ServerConnection.connect(parseHostPort(this.status.address), this.login);
    const result = await this.conn.queryRow(this.electing ? electionSql : checkSql);
    if (result.error || !result.row) throw new Error(result.error ?? 'no reply');
    if (!this.electing || result.row[5] !== 't') return { row: result.row, epoch: null };
    const epoch = await this.conn.queryRow(epochSql);
    if (epoch.error) throw new Error(epoch.error);
    const [timeline, host] = epoch.row ?? [];
    const recorded = timeline && host ? { timeline: Number(timeline), host } : null;
    return { row: result.row, epoch: recorded };
  }

  private update(next: Partial<HostStatus>): void {
    const was = this.status.healthy;
    Object.assign(this.status, next, { checkedAt: Date.now() });
    if (was !== this.status.healthy) {
      const fields = { server: this.status.address, error: this.status.error ?? undefined };
      if (this.status.healthy) this.log.info('server is up', fields);
      else this.log.warn('server is down', fields);
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
