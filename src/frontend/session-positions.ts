// Read-your-writes for one client session: the WAL positions its reads must see (its own writes, its scope's, a token).
import type { Database } from '../backend/database.js';
import { parseLsn } from '../backend/lsn.js';
import type { Pool } from '../backend/pool.js';
import type { ServerConnection } from '../backend/server-connection.js';
import type { StatementInfo } from '../router/classify.js';
import { directiveLsn, maxLsn } from './session-commands.js';

/** How long a commit's acknowledgement may wait for Redis to take its position (read_your_writes_redis). */
const shareWaitMs = 1_000;

export class SessionPositions {
  /** The primary's WAL position after this client's last write. */
  own: bigint | null = null;
  /** A position the client asked its reads to wait for (SET polyproxy.min_lsn), from another service's write. */
  token: bigint | null = null;
  /** Commit positions still being learnt. */
  learning = 0;
  /** A write was sent on the current server connection (its commit position must be learnt). */
  wroteHere = false;
  /** A write in a scope shared with other instances: its commit position is published before the commit is acknowledged. */
  sharePending = false;

  constructor(
    private readonly db: Database,
    /** The scope whose writes this client's reads must see (routing.read_your_writes user / application), or null. */
    readonly scope: string | null,
  ) {}

  /** A write of this client (or of its scope) committed and its position is not known yet. */
  writePending(): boolean {
    if (this.db.config.routing.read_your_writes === 'off') return false;
    return this.learning > 0 || (this.scope !== null && this.db.writePositions.pending(this.scope));
  }

  /**
   * The WAL position a replica must have replayed to serve this client's reads: its own last write, its
   * scope's (other connections of its user or application), and a `min_lsn` token it was given.
   */
  readAfter(infos: readonly StatementInfo[] = []): bigint | null {
    let lsn = this.token;
    for (const info of infos) lsn = maxLsn(lsn, directiveLsn(info.directive));
    if (this.db.config.routing.read_your_writes === 'off') return lsn;
    lsn = maxLsn(lsn, this.own);
    return this.scope === null ? lsn : maxLsn(lsn, this.db.writePositions.minLsn(this.scope));
  }

  /** Whether the commit on the connection being given back must have its position learnt first. */
  mustLearn(): boolean {
    return this.wroteHere && this.db.config.routing.read_your_writes !== 'off' && this.db.shard.hasReplicas;
  }

  /**
   * The position of a write just committed, learnt on its connection and published to the other proxy
   * instances before the client hears of the commit: a read the client then sends to another instance
   * sees the write. Bounded: a slow Redis delays the acknowledgement by shareWaitMs at most.
   */
  async share(conn: ServerConnection): Promise<void> {
    const { row } = await conn.queryRow('SELECT pg_current_wal_lsn()');
    const lsn = parseLsn(row?.[0]);
    if (lsn === null || this.scope === null) return;
    this.wroteHere = false;
    this.saw(lsn);
    this.db.writePositions.note(this.scope, lsn);
    await this.db.sharedPositions?.publishNow(this.scope, lsn, shareWaitMs);
  }

  /**
   * After a write: the primary's WAL position, which a replica must have replayed to serve this client,
   * learnt on the connection before it goes back to its pool; done() runs when the last one is known.
   */
  learn(conn: ServerConnection, pool: Pool, done: () => void): void {
    this.learning++;
    const scope = this.scope;
    if (scope !== null) this.db.writePositions.committing(scope);
    conn.relay.target = null;
    conn.queryRow('SELECT pg_current_wal_lsn()').then(({ error, row }) => {
      this.learning--;
      const lsn = parseLsn(row?.[0]);
      if (scope !== null) this.db.writePositions.learnt(scope, lsn);
      this.saw(lsn);
      if (error || conn.closed) pool.destroy(conn);
      else pool.release(conn);
      if (this.learning === 0) done();
    });
  }

  private saw(lsn: bigint | null): void {
    if (lsn !== null && (this.own === null || lsn > this.own)) this.own = lsn;
  }
}
