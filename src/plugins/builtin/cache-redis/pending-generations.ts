// Databases whose cached entries may be stale because an invalidation may not have reached Redis: their
// generation is bumped (invalidating every entry) before the cache serves them again.

interface Run {
  readonly promise: Promise<void>;
  /** The mark that was current when this bump started: only that one (or an older one) does it settle. */
  readonly mark: number;
}

export class PendingGenerations {
  private readonly marks = new Map<string, number>();
  private readonly running = new Map<string, Run>();
  private lastMark = 0;

  /** The database needs a generation bump before its entries may be served or stored. */
  add(database: string): void {
    this.marks.set(database, ++this.lastMark);
  }

  has(database: string): boolean {
    return this.marks.has(database);
  }

  /**
   * Resolves once the database needs no bump, running `bump` (one at a time per database) as often as
   * needed; a failure marked while a bump ran takes another. Rejects with the bump's error.
   */
  async settle(database: string, bump: () => Promise<void>): Promise<void> {
    for (;;) {
      if (!this.marks.has(database)) return;
      let run = this.running.get(database);
      if (!run) {
        const mark = this.marks.get(database)!;
        const promise = bump().finally(() => this.running.delete(database));
        run = { promise, mark };
        this.running.set(database, run);
      }
      await run.promise;
      if (this.marks.get(database) === run.mark) this.marks.delete(database);
    }
  }
}
