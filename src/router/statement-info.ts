// What the classifier learns about a SQL text: data the router and the session act on.
import type { StatementObjects } from './statement-objects.js';

/** Session routing set with `SET polyproxy.route`: `auto` lets each statement decide. */
export type RouteOverride = 'primary' | 'replica' | 'auto';

export interface TransactionControl {
  /** begin: BEGIN/START; commit: COMMIT/END/PREPARE TRANSACTION; rollback: ROLLBACK/ABORT; other: the rest. */
  readonly kind: 'begin' | 'commit' | 'rollback' | 'other';
  /** READ ONLY given on BEGIN/START or SET TRANSACTION; a replica can serve such a transaction. */
  readonly readOnly: boolean;
  /** READ WRITE given explicitly: the transaction may write whatever default_transaction_read_only says. */
  readonly readWrite?: boolean;
  /** COMMIT/ROLLBACK AND CHAIN: a new transaction starts at once, so the block stays open. */
  readonly chain?: boolean;
}

/** A session-level setting to replay on whichever server connection the client gets next. */
export interface SessionSet {
  /** Lower-case setting name, e.g. `search_path`. */
  readonly name: string;
  /** SQL that re-applies the value, or null when it returns to the server default (RESET, SET ... TO DEFAULT). */
  readonly sql: string | null;
}

export interface StatementInfo {
  /** 'read' may run on a replica; 'write' needs the primary. */
  readonly access: 'read' | 'write';
  /** Short machine-friendly reason: the first write's reason, else the first statement's. */
  readonly reason: string;
  /** The transaction statement that decides whether a block is open afterwards (the last BEGIN/COMMIT/ROLLBACK, else the last other one). */
  readonly transaction?: TransactionControl;
  /** Every transaction statement of the text, in order. */
  readonly transactions?: readonly TransactionControl[];
  /** Session SETs after the last RESET ALL, in order; apply resetAll first, then these. */
  readonly sets?: readonly SessionSet[];
  /** RESET ALL or DISCARD ALL: every setting returns to its default (the route override to `auto`). */
  readonly resetAll?: boolean;
  /** `SET polyproxy.route = primary|replica|auto` (or RESET): the session routing override. */
  readonly routeOverride?: RouteOverride;
  /** Leading comment hint `/* polyproxy: primary *\/` or `-- polyproxy: replica`. */
  readonly hint?: 'primary' | 'replica';
  /** Words of a leading `polyproxy: ...` comment that is no route hint, for plugins, e.g. `cache ttl=60`. */
  readonly directive?: string;
  /** `EXPLAIN ROUTE <statement>`: the inner statement text, which the proxy answers itself. */
  readonly explainRoute?: string;
  /** Why the statement leaves state in the server session, so transaction pooling must pin the client. */
  readonly pin?: string;
  /** Tables and functions the text touches; absent when it could not be parsed. */
  readonly objects?: StatementObjects;
  /** Parsed statements; an unparseable text counts as one. */
  readonly statementCount: number;
}
