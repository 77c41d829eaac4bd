// Watches one PostgreSQL server: up or down, primary or in recovery, and how far it has replayed.
import { parseHostPort } from '../config/host-port.js';
import type { Logger } from '../logger.js';
import { parseLsn } from './lsn.js';
import { ServerConnection, type ServerLogin } from './server-connection.js';

/** One query answers everything the router needs; the replay time is kept for operators. */
const checkSql =
  'SELECT pg_is_in_recovery(), ' +
  'CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, ' +
  'EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000';

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
  ) {
    this.status = {
      address,
      healthy: false,
      inRecovery: null,
      lsn: null,
      replayAgeMs: null,
      checkedAt: 0,
      error: null,
    };
  }

  /** Runs one check; resolves when it is done, never rejects. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const result = await withTimeout(this.query(), this.timeoutMs);
      if (result.error || !result.row) throw new Error(result.error ?? 'no reply');
      const [recovery, lsn, age] = result.row;
      this.update({
        healthy: true,
        inRecovery: recovery === 't',
        lsn: parseLsn(lsn),
        replayAgeMs: age === null ? null : Number(age),
        error: null,
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

  private async query(): Promise<{ error?: string; row?: (string | null)[] }> {
    if (!this.conn || this.conn.closed)
      this.conn = await ServerConnection.connect(parseHostPort(this.status.address), this.login);
    return this.conn.queryRow(checkSql);
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
