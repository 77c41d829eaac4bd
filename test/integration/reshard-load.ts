// The client side of cutover tests: clients of the proxy writing and reading items in their own id ranges,
// bounded in count and time, with a ledger of every acknowledged write and the longest statement latency.
import pg from 'pg';

export interface LoadResult {
  /** Item id -> the v of its last acknowledged write. */
  readonly expected: Map<number, number>;
  readonly statements: number;
  readonly failures: string[];
  /** The longest statement latency, and when it started (ms since the epoch). */
  readonly longestMs: number;
  readonly longestAt: number;
}

/** One client: single-row inserts, updates of its own rows and reads that must see its last write. */
async function clientLoop(
  config: pg.ClientConfig,
  worker: number,
  maxOps: number,
  stopped: () => boolean,
): Promise<LoadResult> {
  const expected = new Map<number, number>();
  const failures: string[] = [];
  let statements = 0;
  let longestMs = 0;
  let longestAt = 0;
  const c = new pg.Client(config);
  c.on('error', (error) => failures.push(`connection: ${error.message}`));
  await c.connect();
  const base = 5_000_000 + worker * 100_000;
  let next = base;
  const timed = async (text: string, values: unknown[]) => {
    const started = Date.now();
    const result = await c.query(text, values);
    const ms = Date.now() - started;
    statements++;
    if (ms > longestMs) [longestMs, longestAt] = [ms, started];
    return result;
  };
  try {
    for (let i = 0; i < maxOps && !stopped(); i++) {
      const own = next > base ? base + ((i * 7919) % (next - base)) : -1;
      try {
        if (i % 3 === 0 || own < 0) {
          const id = next++;
          await timed('INSERT INTO items (id, v, note) VALUES ($1, $2, $3)', [id, i, `w${worker}`]);
          expected.set(id, i);
        } else if (i % 3 === 1) {
          await timed('UPDATE items SET v = $2 WHERE id = $1', [own, -i]);
          expected.set(own, -i);
        } else {
          const { rows } = await timed('SELECT v FROM items WHERE id = $1', [own]);
          if (rows[0]?.v !== expected.get(own))
            failures.push(`read of ${own}: ${rows[0]?.v} instead of ${expected.get(own)}`);
        }
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  } finally {
    await c.end().catch(() => {});
  }
  return { expected, statements, failures, longestMs, longestAt };
}

/** `clients` loops at once (id ranges from `firstWorker` on); they stop at `stopped()` or after `maxOps` statements each. */
export async function runLoad(
  config: pg.ClientConfig,
  clients: number,
  maxOps: number,
  stopped: () => boolean,
  firstWorker = 0,
): Promise<LoadResult> {
  const results = await Promise.all(
    Array.from({ length: clients }, (_, w) => clientLoop(config, firstWorker + w, maxOps, stopped)),
  );
  const longest = results.reduce((a, b) => (b.longestMs > a.longestMs ? b : a));
  return {
    expected: new Map(results.flatMap((r) => [...r.expected])),
    statements: results.reduce((n, r) => n + r.statements, 0),
    failures: results.flatMap((r) => r.failures),
    longestMs: longest.longestMs,
    longestAt: longest.longestAt,
  };
}
