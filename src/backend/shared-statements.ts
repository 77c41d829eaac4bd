// What a database's server connections share about the statements the proxy prepares for clients.
//
// Server statement names are a hash of the statement, so after a schema change (ALTER TABLE, a type
// dropped and created again) a connection's copy may no longer match what a fresh Parse would make:
// PostgreSQL then fails its Bind with "cached plan must not change result type". A generation counter,
// part of the server names of statements parsed since, gives those fresh copies of their own; older
// clients keep the copies they described, so PostgreSQL still tells them when a result type changed.

/** How many statement names are remembered as parsed successfully; the oldest are forgotten first. */
const knownLimit = 10_000;
/** How many schema changes are remembered by table; past that every older statement counts as changed. */
const changeLimit = 100;

export class SharedStatements {
  /** Bumped by DDL and by the errors of stale copies; part of the server names of statements parsed since. */
  generation = 0;
  /** Server statement names some connection prepared without error (since the last schema change). */
  private known = new Set<string>();

  /** The tables each generation's schema change touched (null: unknown, as after a stale-plan error). */
  private changes: { generation: number; tables: readonly string[] | null }[] = [];

  /** Every prepared copy is suspect from now on; `tables` are those the change touched, when known. */
  invalidate(tables: readonly string[] | null = null): void {
    this.generation++;
    this.known.clear();
    this.changes.push({ generation: this.generation, tables });
    if (this.changes.length > changeLimit) this.changes.splice(0, this.changes.length - changeLimit);
  }

  /**
   * Whether a statement parsed in `generation`, reading `tables`, may have a result type that changed
   * since: then a fresh copy of it could return rows of another shape than the client was told.
   */
  changedSince(generation: number, tables: readonly string[] | undefined): boolean {
    if (generation >= this.generation) return false;
    const oldest = this.changes[0];
    if (!oldest || oldest.generation > generation + 1) return true;
    return this.changes.some(
      (c) =>
        c.generation > generation &&
        (c.tables === null || !tables || c.tables.some((t) => tables.includes(t))),
    );
  }

  /** A Parse of this statement succeeded on a connection. */
  parsed(serverName: string): void {
    if (this.known.has(serverName)) return;
    if (this.known.size >= knownLimit) this.known.delete(this.known.values().next().value as string);
    this.known.add(serverName);
  }

  /** Whether the statement parsed before, so a client's Parse of it may be acknowledged without a server. */
  isKnown(serverName: string): boolean {
    return this.known.has(serverName);
  }
}

/**
 * Errors that say a connection's copy of a statement is stale: its result type changed, or a type it
 * refers to is gone. A new Parse of the same text would succeed, so the copies must go.
 */
export function isStalePlanError(body: Buffer): boolean {
  return (
    body.includes('cached plan must not change result type') || body.includes('cache lookup failed for type')
  );
}
