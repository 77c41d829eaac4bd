// The JSON message of one published row change, and which configured table (if any) a change belongs to.
import type { RowChange, RowValues, StreamTransaction } from '../../../streams/row-changes.js';
import type { Operation, PublishConfig, TableTarget } from './config.js';

export interface ChangeMessage {
  /** `<commit LSN>/<index in the transaction>`: the same for every delivery of the change, for deduplication. */
  readonly id: string;
  readonly op: Operation;
  /** `schema.table` */
  readonly table: string;
  readonly key: RowValues | null;
  readonly new: RowValues | null;
  readonly old_key: RowValues | null;
  /** Commit LSN of the transaction (`X/Y`). */
  readonly lsn: string;
  readonly xid: number;
  /** ISO 8601 in UTC with microseconds. */
  readonly commit_time: string;
}

/** A change to publish: its message, its table's settings, and the key that orders it (per table and row). */
export interface Outgoing {
  readonly message: ChangeMessage;
  readonly target: TableTarget;
  /** Changes with equal orderKey reach each destination in commit order. */
  readonly orderKey: string;
  readonly body: string;
}

/** `2026-12-07T12:00:00.123456Z` from microseconds since the epoch. */
export function isoMicros(us: bigint): string {
  const ms = us / 1000n;
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 19)}.${String(us % 1_000_000n).padStart(6, '0')}Z`;
}

/** Finds a table's settings: `s.t` exactly, else `t` (configured without a schema, it matches any). */
export function targetFinder(config: PublishConfig): (table: string) => TableTarget | undefined {
  const exact = new Map<string, TableTarget>();
  const bare = new Map<string, TableTarget>();
  for (const [name, target] of Object.entries(config.tables)) {
    const lower = name.toLowerCase();
    (lower.includes('.') ? exact : bare).set(lower, target);
  }
  return (table) => exact.get(table) ?? bare.get(table.slice(table.indexOf('.') + 1));
}

const operationsOf = (target: TableTarget): readonly Operation[] =>
  target.operations ??
  (target.delete_after_publish ? ['insert'] : ['insert', 'update', 'delete', 'truncate']);

/** The messages of a batch of transactions, in commit order; changes of tables not configured are skipped. */
export function outgoing(
  transactions: readonly StreamTransaction[],
  find: (table: string) => TableTarget | undefined,
): Outgoing[] {
  const out: Outgoing[] = [];
  for (const tx of transactions) {
    const commitTime = isoMicros(tx.commitTimeUs);
    tx.changes.forEach((change: RowChange, index) => {
      const target = find(change.table);
      if (!target || !operationsOf(target).includes(change.op)) return;
      const message: ChangeMessage = {
        id: `${tx.commitLsn}/${(tx.offset ?? 0) + index}`,
        op: change.op,
        table: change.table,
        key: change.key,
        new: change.new,
        old_key: change.oldKey,
        lsn: tx.commitLsn,
        xid: tx.xid,
        commit_time: commitTime,
      };
      // Without a key (truncate, no replica identity) order holds per table.
      const orderKey = `${change.table} ${change.key ? JSON.stringify(change.key) : ''}`;
      out.push({ message, target, orderKey, body: JSON.stringify(message) });
    });
  }
  return out;
}
