// The reshard bench's direct look at the old primaries: WAL written since each reshard slot's confirmed
// position, summed, sampled twice a second (SHOW RESHARD has no lag before the streams run, during the copy).
import pg from 'pg';

export interface LagSample {
  readonly at: number;
  readonly bytes: number;
}

const lagSql = `SELECT COALESCE(sum(pg_current_wal_lsn() - confirmed_flush_lsn), 0)::bigint AS b
  FROM pg_replication_slots WHERE slot_name ~ '^polyproxy_reshard_.*_[0-9]+$'`;

/** Samples until stop() is called; the samples so far are in `samples`. */
export class SlotLag {
  readonly samples: LagSample[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(servers: readonly pg.ClientConfig[]) {
    this.done = this.loop(servers);
  }

  private async loop(servers: readonly pg.ClientConfig[]): Promise<void> {
    const clients = servers.map((s) => new pg.Client(s));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      while (!this.stopped) {
        const rows = await Promise.all(clients.map((c) => c.query(lagSql)));
        this.samples.push({ at: Date.now(), bytes: rows.reduce((n, r) => n + Number(r.rows[0].b), 0) });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  /** The samples taken between two times. */
  between(from: number, to: number): LagSample[] {
    return this.samples.filter((s) => s.at >= from && s.at <= to);
  }
}
