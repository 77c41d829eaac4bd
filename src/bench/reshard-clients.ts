// The reshard bench's clients: each owns a slice of the initial rows and an id range for new ones, runs a bounded
// mix through the proxy (single-row INSERT/UPDATE, multi-row INSERT, cross-shard transactions, point reads) and
// keeps a ledger of every acknowledged write, the latency of every statement and every failure.
import pg from 'pg';
import { hashShard } from '../router/sharding/pg-hash.js';

export interface Failure {
  readonly at: number;
  readonly code: string;
  readonly message: string;
}

export interface ClientResult {
  /** id -> v of its last acknowledged write (initial rows untouched are not in it). */
  readonly expected: Map<number, number>;
  /** Rows whose last write failed without a known outcome: either value is accepted, and presence too. */
  readonly uncertain: Set<number>;
  /** Acknowledged inserts (rows that must exist). */
  readonly inserted: number;
  readonly failures: Failure[];
  readonly staleReads: string[];
  /** Start (ms since the epoch) and duration (ms) of every statement, in order. */
  readonly starts: number[];
  readonly durations: number[];
  /** What each statement was (single insert, multi-row insert, update, read, or a transaction's step). */
  readonly kinds: string[];
}

export interface ClientSetup {
  readonly config: pg.ClientConfig;
  readonly worker: number;
  readonly clients: number;
  readonly initialRows: number;
  readonly oldShards: number;
  readonly newShards: number;
  readonly maxOps: number;
  readonly stopped: () => boolean;
}

/** v of an initial row, as the bench writes it. */
export const initialValue = (id: number) => id % 1000;
/** New ids of client w start here, far above the initial rows. */
export const newIdBase = (worker: number) => 1_000_000_000 + worker * 10_000_000;

/** Owned initial rows in pairs on different old shards and different new ones (the cross-shard transactions). */
function crossPairs(owned: number[], oldShards: number, newShards: number): [number, number][] {
  const shardOf = (id: number, n: number) => hashShard('int', BigInt(id), n);
  const pairs: [number, number][] = [];
  for (let i = 0; i + 1 < owned.length && pairs.length < 500; i++) {
    const [a, b] = [owned[i]!, owned[i + 1]!];
    if (shardOf(a, oldShards) !== shardOf(b, oldShards) && shardOf(a, newShards) !== shardOf(b, newShards))
      pairs.push([a, b]);
  }
  if (pairs.length === 0)
    throw new Error('no owned rows on different shards for the cross-shard transactions');
  return pairs;
}

class BenchClient {
  readonly result: ClientResult;
  private readonly c: pg.Client;
  private readonly owned: number[] = [];
  private readonly pairs: [number, number][];
  private next: number;

  constructor(private readonly s: ClientSetup) {
    this.result = {
      expected: new Map(),
      uncertain: new Set(),
      inserted: 0,
      failures: [],
      staleReads: [],
      starts: [],
      durations: [],
      kinds: [],
    };
    // A client-side bound, so a statement that never returns ends the run instead of hanging it.
    this.c = new pg.Client({ ...s.config, query_timeout: 120_000 });
    this.c.on('error', (error) => this.fail(error));
    for (let id = s.worker + 1; id <= s.initialRows && this.owned.length < 20_000; id += s.clients)
      this.owned.push(id);
    this.pairs = crossPairs(this.owned, s.oldShards, s.newShards);
    this.next = newIdBase(s.worker);
  }

  private fail(error: unknown): void {
    const e = error as { code?: string; message?: string };
    this.result.failures.push({ at: Date.now(), code: e.code ?? 'client', message: String(e.message) });
  }

  private async timed(kind: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
    const started = Date.now();
    const t0 = performance.now();
    try {
      return await this.c.query(text, values);
    } finally {
      this.result.starts.push(started);
      this.result.durations.push(performance.now() - t0);
      this.result.kinds.push(kind);
    }
  }

  private ack(id: number, v: number): void {
    this.result.expected.set(id, v);
    this.result.uncertain.delete(id);
  }

  private pick(i: number): number {
    const pool = this.owned;
    return pool[(i * 7919) % pool.length]!;
  }

  async run(): Promise<void> {
    await this.c.connect();
    try {
      for (let i = 0; i < this.s.maxOps && !this.s.stopped(); i++) await this.step(i);
    } finally {
      await this.c.end().catch(() => {});
    }
  }

  /** One operation of the mix; a failure is recorded and its rows become uncertain. */
  private async step(i: number): Promise<void> {
    const touched: number[] = [];
    try {
      switch (i % 6) {
        case 0:
          return await this.insert(i, touched);
        case 1:
          return await this.update(i, touched);
        case 2:
          return await this.insertMany(i, touched);
        case 3:
          return await this.crossShard(i, touched);
        default:
          return await this.read(i);
      }
    } catch (error) {
      this.fail(error);
      for (const id of touched) this.result.uncertain.add(id);
      if (i % 6 === 3) await this.c.query('ROLLBACK').catch(() => {});
    }
  }

  private async insert(i: number, touched: number[]): Promise<void> {
    const id = this.next++;
    touched.push(id);
    await this.timed('insert', 'INSERT INTO items (id, v, note) VALUES ($1, $2, $3)', [
      id,
      i,
      `w${this.s.worker}`,
    ]);
    this.ack(id, i);
    (this.result as { inserted: number }).inserted++;
    this.owned.push(id);
  }

  private async update(i: number, touched: number[]): Promise<void> {
    const id = this.pick(i);
    touched.push(id);
    await this.timed('update', 'UPDATE items SET v = $2 WHERE id = $1', [id, -i]);
    this.ack(id, -i);
  }

  /** Three rows in one INSERT: usually on different shards. */
  private async insertMany(i: number, touched: number[]): Promise<void> {
    const ids = [this.next++, this.next++, this.next++];
    touched.push(...ids);
    await this.timed(
      'insert x3',
      'INSERT INTO items (id, v, note) VALUES ($1, $4, $5), ($2, $4, $5), ($3, $4, $5)',
      [...ids, i, `m${this.s.worker}`],
    );
    for (const id of ids) {
      this.ack(id, i);
      this.owned.push(id);
    }
    (this.result as { inserted: number }).inserted += 3;
  }

  /** Two rows on different shards (old and new) in one transaction. */
  private async crossShard(i: number, touched: number[]): Promise<void> {
    const [a, b] = this.pairs[i % this.pairs.length]!;
    touched.push(a, b);
    await this.timed('tx begin', 'BEGIN');
    await this.timed('tx update', 'UPDATE items SET v = $2 WHERE id = $1', [a, i]);
    await this.timed('tx update', 'UPDATE items SET v = $2 WHERE id = $1', [b, -i]);
    await this.timed('tx commit', 'COMMIT');
    this.ack(a, i);
    this.ack(b, -i);
  }

  /** A point read of an owned row must see the client's last acknowledged write. */
  private async read(i: number): Promise<void> {
    const id = this.pick(i * 31 + 7);
    const { rows } = await this.timed('read', 'SELECT v FROM items WHERE id = $1', [id]);
    if (this.result.uncertain.has(id)) return;
    const want = this.result.expected.get(id) ?? (id <= this.s.initialRows ? initialValue(id) : undefined);
    const got = rows[0]?.v as number | undefined;
    if (got !== want) this.result.staleReads.push(`id ${id}: read ${got}, last written ${want}`);
  }
}

/** Runs one client to its end (stopped() or maxOps). */
export async function runClient(setup: ClientSetup): Promise<ClientResult> {
  const client = new BenchClient(setup);
  await client.run();
  return client.result;
}
