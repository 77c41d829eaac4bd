// The plugin API: what a plugin declares, what it is given, and the hooks through which it sees and answers statements.
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { StatementNode } from '../sql/parser.js';

/**
 * A plugin module's default export. Built-ins are enabled by name in YAML (`plugins: { cache: {...} }`),
 * third-party plugins by module path (`plugins: { mine: { module: ./my-plugin.js, options: {...} } }`).
 */
export interface PolyproxyPlugin<Config = unknown> {
  readonly name: string;
  /** The polyproxy versions this plugin supports, as a semver range such as `^0.1`. */
  readonly polyproxy: string;
  /** Validates and defaults the plugin's own config slice; errors name the key path under `plugins.<name>`. */
  readonly configSchema?: z.ZodType<Config>;
  /** Called once at start: register hooks on ctx. Throwing stops the proxy from starting, with the message. */
  register(ctx: PluginContext<Config>): void | Promise<void>;
}

export interface PluginContext<Config> {
  readonly config: Config;
  /** Log lines carry `plugin: <name>`. */
  readonly log: Logger;
  /** Metrics named `polyproxy_plugin_<name>_*`. */
  readonly metrics: PluginMetrics;
  readonly proxyVersion: string;
  /** The configured databases and their primaries, for plugins that read PostgreSQL's own streams. */
  readonly databases: readonly PluginDatabase[];
  /** Statements that name one of these schemas, tables or functions are answered by handler, never by PostgreSQL. */
  claim(claim: Claim, handler: StatementHandler): void;
  /** Sees each read that may be answered from elsewhere (not in a transaction block), before it runs. */
  beforeStatement(hook: BeforeStatementHook): void;
  /** Learns the tables each committed write touched, before the client sees the commit acknowledged. */
  onCommit(hook: CommitHook): void;
  onStart(hook: () => void | Promise<void>): void;
  onStop(hook: () => void | Promise<void>): void;
}

/** A database clients connect to: the proxy's login to its servers and each shard's primary. */
export interface PluginDatabase {
  readonly name: string;
  readonly user: string;
  readonly password: string;
  readonly connectTimeoutMs: number;
  readonly primaries: readonly { readonly host: string; readonly port: number; readonly database: string }[];
}

/** Names are compared lower-case, as PostgreSQL folds unquoted identifiers; a table may be `schema.table`. */
export interface Claim {
  readonly schemas?: readonly string[];
  readonly tables?: readonly string[];
  readonly functions?: readonly string[];
}

/** A single statement as a plugin sees it. */
export interface Statement {
  readonly sql: string;
  /** libpg-query's JSON for this one statement, e.g. `{ SelectStmt: {...} }`. */
  readonly ast: StatementNode;
  /** Bound parameters in PostgreSQL text form ($1 is params[0]); binary ones are converted first. */
  readonly params: readonly (string | null)[];
  /** Parameter type OIDs given by the client's Parse (0 where it left the type open). */
  readonly paramTypes: readonly number[];
  /** Result column formats the client asked for (0 text, 1 binary); the proxy encodes accordingly. */
  readonly resultFormats: readonly number[];
  /** The words after `polyproxy:` in a leading comment, e.g. `cache ttl=60`. */
  readonly hint?: string;
  /** Relations the statement reads or writes, lower-case, as written (`t` or `s.t`); CTE names excluded. */
  readonly tables: readonly string[];
  /** Called functions, lower-case, as written. */
  readonly functions: readonly string[];
  /** Calls a function whose result changes between calls (now(), random(), nextval(), CURRENT_TIMESTAMP, ...). */
  readonly volatile: boolean;
  readonly session: SessionView;
}

/** The client connection a statement came from: the same object for the whole connection (a key for per-client state). */
export interface SessionView {
  readonly database: string;
  readonly user: string;
  /** Inside BEGIN ... COMMIT. */
  readonly inTransaction: boolean;
  /**
   * The client's transaction is read-only, as PostgreSQL would have it: the block's access mode (BEGIN READ
   * ONLY, SET TRANSACTION READ ONLY), else the session default (default_transaction_read_only, from SET,
   * SET SESSION CHARACTERISTICS or the startup options). A plugin refuses every write then, with SQLSTATE
   * 25006 as PostgreSQL does; the host already refuses INSERT, UPDATE, DELETE, MERGE and row locks on
   * claimed tables, so a plugin checks only the writes the SQL text does not show (inside a function call).
   */
  readonly readOnly: boolean;
  /** Settings that may change results (search_path, TimeZone, DateStyle, ...), lower-case name to an opaque value. */
  readonly settings: ReadonlyMap<string, string>;
  /**
   * Joins the plugin's work to the client's transaction block: commit() runs at COMMIT, before PostgreSQL
   * commits (a failure turns the COMMIT into ROLLBACK and reaches the client); rollback() at ROLLBACK, an
   * error that aborts the block, or a disconnect. Outside a block, a statement commits on its own.
   */
  enlist(participant: TransactionParticipant): void;
}

export interface TransactionParticipant {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface ResultColumn {
  readonly name: string;
  readonly typeOid: number;
  /** atttypmod, e.g. numeric precision; -1 when none. */
  readonly typeModifier?: number;
}

export interface Description {
  /** Parameter type OIDs to report for Describe of a statement; defaults to the client's, with 0 as text. */
  readonly params?: readonly number[];
  /** null: the statement returns no rows (NoData). */
  readonly columns: readonly ResultColumn[] | null;
}

/** Values in PostgreSQL text form, one per column; null is SQL NULL. */
export type Row = readonly (string | null)[];

export interface StatementResult {
  readonly columns: readonly ResultColumn[] | null;
  /** Every row, or with `more` the first page of them. */
  readonly rows: readonly Row[];
  /** The CommandComplete tag, e.g. `SELECT 3`, `INSERT 0 1`, `UPDATE 2`; with `more` the proxy counts (`SELECT n`). */
  readonly command: string;
  /**
   * The rest of a large read, fetched a page at a time only when the client wants more rows (an Execute with a
   * row limit suspends the portal and keeps this), so a result never has to fit in memory.
   */
  readonly more?: RowPages;
}

export interface RowPages {
  /** The page after the last one given, or null when no rows are left. */
  next(): Promise<readonly Row[] | null>;
}

/** Answers statements a plugin has claimed. Throw a PluginError to send the client a chosen SQLSTATE. */
export interface StatementHandler {
  /** What the statement would return, without running it (extended-protocol Describe). */
  describe(stmt: Statement): Promise<Description>;
  execute(stmt: Statement): Promise<StatementResult>;
  /** Text for EXPLAIN ROUTE, e.g. the MongoDB command or Cypher that would run. */
  explain?(stmt: Statement): string | Promise<string>;
}

/** A reply as PostgreSQL encoded it: written back to a client byte for byte. */
export interface EncodedResult {
  /** The RowDescription message, or null for a statement without rows. */
  readonly rowDescription: Buffer | null;
  /** DataRow messages back to back. */
  readonly dataRows: Buffer;
  readonly rowCount: number;
  /** The CommandComplete tag. */
  readonly command: string;
}

/**
 * What beforeStatement decides: answer the statement (it never reaches PostgreSQL), or let it run and
 * receive its result, or neither (undefined). Only results without errors or notices are captured.
 */
export type BeforeStatementDecision =
  { readonly answer: EncodedResult } | { readonly capture: (result: EncodedResult) => void } | undefined;

export type BeforeStatementHook = (stmt: Statement) => Promise<BeforeStatementDecision>;

export interface CommittedWrite {
  readonly database: string;
  /** Tables written, lower-case as written; `*` when the statement may have written anything (DDL, functions). */
  readonly tables: readonly string[];
}

export type CommitHook = (write: CommittedWrite) => Promise<void>;

export interface PluginMetrics {
  counter(name: string, help: string, labelNames?: readonly string[]): CounterLike;
  gauge(name: string, help: string, labelNames?: readonly string[]): GaugeLike;
  histogram(name: string, help: string, labelNames?: readonly string[], buckets?: number[]): HistogramLike;
}

export interface CounterLike {
  inc(labels?: Record<string, string>, value?: number): void;
}
export interface GaugeLike {
  set(labels: Record<string, string>, value: number): void;
}
export interface HistogramLike {
  observe(labels: Record<string, string>, value: number): void;
}

/** An error for the client: SQLSTATE, message and hint go into the ErrorResponse as given. */
export class PluginError extends Error {
  constructor(
    readonly sqlstate: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
