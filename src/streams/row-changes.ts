// Committed transactions as a change stream hands them to consumers that need their rows (publishing, not
// invalidation): each change with its table, key, new row and old key, values in PostgreSQL's text form.
import type { Pgoutput } from 'pg-logical-replication';
import { formatLsn, parseLsn } from './lsn.js';

/** Column values in PostgreSQL's text form (as `SELECT col::text` prints them); null is SQL NULL. */
export type RowValues = Readonly<Record<string, string | null>>;

export interface RowChange {
  readonly op: 'insert' | 'update' | 'delete' | 'truncate';
  /** `schema.table`, lower-case. */
  readonly table: string;
  /** The replica identity columns (usually the primary key) of the row; null for truncate or a table without one. */
  readonly key: RowValues | null;
  /** The row after an insert or update. A TOASTed value the update left unchanged is missing unless REPLICA IDENTITY FULL. */
  readonly new: RowValues | null;
  /** The key before an update that changed it, or the whole old row with REPLICA IDENTITY FULL; null when unknown. */
  readonly oldKey: RowValues | null;
}

export interface StreamTransaction {
  readonly xid: number;
  /** Where the commit record starts (PostgreSQL's commit LSN), as `X/Y`. */
  readonly commitLsn: string;
  /** Microseconds since the Unix epoch. */
  readonly commitTimeUs: bigint;
  /** Index of the first change within its transaction: above 0 for the later parts of a large one. */
  readonly offset?: number;
  readonly changes: readonly RowChange[];
}

const tableOf = (relation: Pgoutput.MessageRelation) => `${relation.schema}.${relation.name}`.toLowerCase();

/**
 * Values stay as PostgreSQL sent them: the library's default turns timestamps into Date (losing microseconds and
 * the offset) and bigints into whatever pg-types picks. The relation object is the one the decoder keeps for the
 * table's later rows, so this must run before those rows are decoded (the `relation` message precedes them).
 */
export function keepText(relation: Pgoutput.MessageRelation): void {
  for (const column of relation.columns) column.parser = (raw: string) => raw;
}

function pick(row: Record<string, unknown> | null, columns: readonly string[]): RowValues | null {
  if (!row || columns.length === 0) return null;
  const key: Record<string, string | null> = {};
  for (const column of columns) key[column] = (row[column] as string | null | undefined) ?? null;
  return key;
}

const values = (row: Record<string, unknown> | null) => row as RowValues | null;

/** The changes one decoded message makes (none for begin, commit, relation and the like). */
export function rowChanges(message: Pgoutput.Message): RowChange[] {
  switch (message.tag) {
    case 'insert':
      return [
        {
          op: 'insert',
          table: tableOf(message.relation),
          key: pick(message.new, message.relation.keyColumns),
          new: values(message.new),
          oldKey: null,
        },
      ];
    case 'update': {
      const before = message.key ?? message.old;
      return [
        {
          op: 'update',
          table: tableOf(message.relation),
          key: pick(message.new, message.relation.keyColumns),
          new: values(message.new),
          oldKey: message.old ? values(message.old) : pick(before, message.relation.keyColumns),
        },
      ];
    }
    case 'delete': {
      const before = message.key ?? message.old;
      return [
        {
          op: 'delete',
          table: tableOf(message.relation),
          key: pick(before, message.relation.keyColumns),
          new: null,
          oldKey: message.old ? values(message.old) : null,
        },
      ];
    }
    case 'truncate':
      return message.relations.map((relation) => ({
        op: 'truncate',
        table: tableOf(relation),
        key: null,
        new: null,
        oldKey: null,
      }));
    default:
      return [];
  }
}

/** Starts a transaction from its Begin message. */
export function beginTransaction(
  message: Pgoutput.MessageBegin,
): StreamTransaction & { changes: RowChange[] } {
  return {
    xid: message.xid,
    // The decoder pads both halves to eight digits; consumers compare with pg_lsn text, so PostgreSQL's form.
    commitLsn: formatLsn(parseLsn(message.commitLsn ?? '0/0')),
    commitTimeUs: BigInt(message.commitTime as bigint),
    changes: [],
  };
}
