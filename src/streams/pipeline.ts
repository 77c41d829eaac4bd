// The pipelined side of a replication session: batches handed to the sink without waiting for earlier ones, and
// the position confirmed once every batch up to it is done, so the brokers always have a window of work.
import type { StreamTransaction } from './row-changes.js';

/** Takes a batch of transactions (or parts of a large one); must start handling batches in call order. */
export type Sink = (transactions: readonly StreamTransaction[]) => Promise<void>;

interface Flight {
  /** The end of the last WAL the batch covers (exclusive), or null for a part of a transaction. */
  readonly end: bigint | null;
  readonly changes: number;
  done: boolean;
  readonly settled: Promise<void>;
}

export interface PipelineEvents {
  /** Everything before `end` is done: the session may confirm it. */
  confirm(end: bigint): void;
  /** `changes` changes were handled and leave memory. */
  released(changes: number): void;
  /** The sink failed: what was not confirmed must come again, in order (the session restarts). */
  failed(error: Error): void;
}

export class Pipeline {
  private ready: StreamTransaction[] = [];
  private readyChanges = 0;
  private readyEnd: bigint | null = null;
  private readonly flights: Flight[] = [];
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly sink: Sink,
    private readonly events: PipelineEvents,
  ) {}

  /** Queues a committed transaction, or a part of one (end null); sent with what else arrives in this turn. */
  add(transaction: StreamTransaction | null, end: bigint | null): void {
    if (transaction && transaction.changes.length > 0) {
      this.ready.push(transaction);
      this.readyChanges += transaction.changes.length;
    }
    if (end !== null) this.readyEnd = end;
    // One batch per network read: the decoder emits every message of a read before this runs.
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is queued now as one batch (also called for a large transaction's part, so it leaves memory). */
  flush(): void {
    this.scheduled = false;
    if (this.stopped || (this.ready.length === 0 && this.readyEnd === null)) return;
    const batch = this.ready;
    const changes = this.readyChanges;
    const end = this.readyEnd;
    this.ready = [];
    this.readyChanges = 0;
    this.readyEnd = null;
    if (batch.length === 0) {
      this.flights.push({ end, changes: 0, done: true, settled: Promise.resolve() });
      this.settle();
      return;
    }
    const flight: Flight = {
      end,
      changes,
      done: false,
      settled: this.sink(batch).then(
        () => {
          flight.done = true;
          this.events.released(changes);
          this.settle();
        },
        (error: unknown) => {
          if (!this.stopped) this.events.failed(error instanceof Error ? error : new Error(String(error)));
        },
      ),
    };
    this.flights.push(flight);
  }

  /** Confirms the end of the longest run of done batches from the oldest. */
  private settle(): void {
    let end: bigint | null = null;
    while (this.flights.length > 0 && this.flights[0]!.done) {
      const flight = this.flights.shift()!;
      if (flight.end !== null) end = flight.end;
    }
    if (end !== null && !this.stopped) this.events.confirm(end);
  }

  /** True while nothing is queued or in flight: a keepalive's position may then be confirmed at once. */
  get idle(): boolean {
    return this.flights.length === 0 && this.ready.length === 0 && this.readyEnd === null;
  }

  /** Stops confirming and waits until every batch sent settled, so a new session's sends never overtake them. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.flights.map((flight) => flight.settled));
  }
}
