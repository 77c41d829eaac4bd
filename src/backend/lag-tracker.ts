// Replica lag measured in the proxy: how long ago the primary first had WAL a replica has not replayed.
//
// Comparing positions (not replay timestamps) means an idle primary never makes a caught-up replica
// look late, and no clock has to agree with another.

interface Sample {
  at: number;
  lsn: bigint;
}

export class LagTracker {
  private samples: Sample[] = [];

  constructor(private readonly windowMs: number) {}

  /** Records the primary's WAL position as seen now. */
  record(lsn: bigint, at = Date.now()): void {
    const last = this.samples.at(-1);
    if (!last || lsn > last.lsn) this.samples.push({ at, lsn });
    while (this.samples.length > 1 && this.samples[1].at < at - this.windowMs) this.samples.shift();
  }

  latest(): bigint | null {
    return this.samples.at(-1)?.lsn ?? null;
  }

  /** Milliseconds behind the primary for a replica that has replayed up to `replayLsn`. */
  lagMs(replayLsn: bigint, now = Date.now()): number {
    for (const s of this.samples) if (s.lsn > replayLsn) return Math.max(0, now - s.at);
    return 0;
  }
}
