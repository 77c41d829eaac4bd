// What a change stream is given: the primary and slot to read, what to do with the changes, and how much may wait.
import type { Logger } from '../logger.js';
import type { Sink } from './pipeline.js';
import type { StreamTransaction } from './row-changes.js';
import type { ServerLogin } from './stream-lock.js';

export interface ChangeStreamOptions {
  readonly server: ServerLogin;
  /** Replication slot name: letters, digits and underscores (PostgreSQL's rule). */
  readonly slot: string;
  readonly publication: string;
  /**
   * Takes the tables (`schema.table`, lower-case) written by one or more committed transactions. The stream
   * confirms their position only after this resolved; when it throws it is called again with them.
   */
  readonly apply?: (tables: readonly string[]) => Promise<void>;
  /**
   * Takes the committed transactions with their rows, in commit order, like apply (confirmed once it resolved,
   * called again with the same transactions when it throws). With it, the stream keeps each transaction's rows
   * in memory until then.
   */
  readonly applyTransactions?: (transactions: readonly StreamTransaction[]) => Promise<void>;
  /**
   * Pipelined instead (for consumers that only send changes on, such as publishing): made anew for each
   * replication connection, handed each batch as it arrives without waiting for earlier ones, a large
   * transaction in parts (each with its `offset`). A position is confirmed once every batch up to it resolved;
   * a rejection ends the connection, and the next starts from the confirmed position, so what was not
   * confirmed comes again in order.
   */
  readonly sink?: () => Sink;
  /**
   * Changes received and not yet handled, at most: reading stops at this many (the slot keeps the WAL) and goes
   * on at half, so memory stays bounded while a consumer is slow or down. Changes already read from the
   * network (one read, at most 64 KiB) are still taken, and one call at a time reading pauses between
   * transactions only.
   */
  readonly window?: number;
  readonly log: Logger;
  /** What the stream feeds (`cache`, `publish`), as SHOW STREAMS lists it. */
  readonly consumer?: string;
  /** How often an idle instance tries the lock, and the pause before a new attempt after a failure. */
  readonly retryMs?: number;
  /** Told when this instance starts or stops consuming the stream. */
  readonly onConsuming?: (consuming: boolean) => void;
}
