// The primary keys a reshard stream applied since the live verification began: the tail the cutover re-compares
// row by row while statements are held (every other row was verified equal earlier and has not changed since).
import type { RowValues } from '../streams/row-changes.js';
import type { TableFacts } from './plan.js';

/** Past this many keys in one table the tail compares the whole table instead (one scan beats that many lookups). */
export const maxTailKeys = 200_000;

export class TouchedKeys {
  private tracking = false;
  private readonly keys = new Map<string, Map<string, RowValues>>();
  /** Tables truncated, or with too many keys: compared whole. */
  private readonly whole = new Set<string>();

  /** Forgets what was recorded and records from now on. */
  start(): void {
    this.keys.clear();
    this.whole.clear();
    this.tracking = true;
  }

  stop(): void {
    this.tracking = false;
    this.keys.clear();
    this.whole.clear();
  }

  /** A row the stream writes, by its primary key (its old key too when an update moved it). */
  add(table: TableFacts, row: RowValues): void {
    if (!this.tracking || this.whole.has(table.name)) return;
    let keys = this.keys.get(table.name);
    if (!keys) this.keys.set(table.name, (keys = new Map()));
    const key: Record<string, string | null> = {};
    for (const column of table.primaryKey) key[column] = row[column] ?? null;
    keys.set(JSON.stringify(table.primaryKey.map((c) => key[c])), key);
    if (keys.size > maxTailKeys) this.addWhole(table);
  }

  /** A change the keys cannot describe (a truncate): the table is compared whole. */
  addWhole(table: TableFacts): void {
    if (!this.tracking) return;
    this.whole.add(table.name);
    this.keys.delete(table.name);
  }

  /** What was recorded so far: keys per table, and the tables to compare whole. */
  snapshot(): { keys: Map<string, RowValues[]>; whole: Set<string> } {
    const keys = new Map([...this.keys].map(([table, rows]) => [table, [...rows.values()]]));
    return { keys, whole: new Set(this.whole) };
  }
}
