// What a statement becomes: CQL with bound values, which consistency it runs at, and how result rows are read back.
import type { ResultColumn } from '../../api.js';
import type { PgType } from './cql-types.js';

export interface OutputColumn {
  readonly name: string;
  readonly type: PgType;
  /** The column's text from one CQL result row (the selectors' values in order). */
  readonly read: (row: readonly unknown[]) => string | null;
}

export interface CqlStatement {
  readonly cql: string;
  readonly params: readonly unknown[];
}

export type Plan =
  | {
      readonly kind: 'select';
      readonly statement: CqlStatement;
      readonly columns: readonly OutputColumn[];
      /** The columns as the client's row description has them (built once per statement shape). */
      readonly resultColumns: readonly ResultColumn[];
      /** Aggregates answer one row even when no row matched. */
      readonly aggregate: boolean;
      /** A restriction matched nothing (`= NULL`): answered without asking Cassandra. */
      readonly empty: boolean;
      /** The selectors' values when no row matched: counts 0, the rest null. */
      readonly emptyRow: readonly unknown[];
    }
  | {
      readonly kind: 'insert';
      readonly statements: readonly CqlStatement[];
      /** IF NOT EXISTS: [applied] says whether the row was inserted. */
      readonly conditional: boolean;
    }
  | {
      readonly kind: 'update' | 'delete';
      /**
       * Runs first when the write cannot report its own count: the rows it will touch. Without it and not
       * conditional (a counter increment, which creates its row), the count is 1.
       */
      readonly count: CqlStatement | null;
      readonly statement: CqlStatement;
      /** A lightweight transaction (IF EXISTS or IF conditions): its [applied] column is the row count. */
      readonly conditional: boolean;
      readonly empty: boolean;
    };
