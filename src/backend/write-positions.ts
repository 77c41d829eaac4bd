// Read-your-writes beyond one connection: the WAL position of the last write per scope (a user, or a user
// and application), so a read on any connection of that scope goes only to replicas that replayed it.

/** Who sees whose writes: the client connection alone, every connection of its user, or of its user and application_name. */
export type WriteScope = 'connection' | 'user' | 'application' | 'off';

interface Position {
  lsn: bigint | null;
  /** Commits with writes whose position is still being learnt: until then only the primary is sure to have them. */
  pending: number;
}

/** The key a client's writes are kept under, or null when its scope is its own connection (or off). */
export function scopeKey(scope: WriteScope, user: string, application: string | undefined): string | null {
  if (scope === 'user') return user;
  if (scope === 'application') return `${user}\u0000${application ?? ''}`;
  return null;
}

export class WritePositions {
  private readonly byKey = new Map<string, Position>();
  /** Told every position learnt here, to share it with other proxy instances. */
  onLearnt: ((key: string, lsn: bigint) => void) | null = null;

  /**
   * @param replayedEverywhere the lowest position every usable replica of the shard has replayed (null when
   *   none is usable): a position at or below it constrains no read, so it is forgotten.
   */
  constructor(private readonly replayedEverywhere: () => bigint | null) {}

  /** A commit with writes happened in the scope; its position follows with learnt(). */
  committing(key: string): void {
    const p = this.byKey.get(key);
    if (p) p.pending++;
    else this.byKey.set(key, { lsn: null, pending: 1 });
  }

  /** The position of a commit announced by committing() (null when it could not be learnt). */
  learnt(key: string, lsn: bigint | null): void {
    const p = this.byKey.get(key);
    if (!p) return;
    p.pending = Math.max(0, p.pending - 1);
    if (lsn !== null && (p.lsn === null || lsn > p.lsn)) p.lsn = lsn;
    if (lsn !== null) this.onLearnt?.(key, lsn);
    if (p.pending === 0 && p.lsn === null) this.byKey.delete(key);
  }

  /** A position learnt elsewhere (another instance, or a client's token). */
  note(key: string, lsn: bigint): void {
    const p = this.byKey.get(key);
    if (!p) this.byKey.set(key, { lsn, pending: 0 });
    else if (p.lsn === null || lsn > p.lsn) p.lsn = lsn;
  }

  /** Whether a commit of the scope has a position not yet learnt. */
  pending(key: string): boolean {
    return (this.byKey.get(key)?.pending ?? 0) > 0;
  }

  /** The position reads of the scope must wait for; null when none (or every replica is past it). */
  minLsn(key: string): bigint | null {
    const p = this.byKey.get(key);
    if (!p || p.lsn === null) return null;
    const replayed = this.replayedEverywhere();
    if (replayed !== null && p.lsn <= replayed) {
      if (p.pending === 0) this.byKey.delete(key);
      else p.lsn = null;
      return null;
    }
    return p.lsn;
  }

  /** How many scopes hold a position or a pending commit (admin console, metrics). */
  get size(): number {
    return this.byKey.size;
  }
}
