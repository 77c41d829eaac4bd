// What a plugin workload is: a store with a table, the store's own driver, and the same statement in SQL through polyproxy.
import type { ConfigInput } from '../../config/schema.js';

/** A store started and filled for one workload, with its driver connected. */
export interface PluginStore {
  /** The proxy's `plugins:` section that claims the store's tables. */
  plugins: NonNullable<ConfigInput['plugins']>;
  /** Runs the statement for key number `i` through the store's own driver (prepared), resolving to its row count. */
  direct(i: number): Promise<number>;
  /** The same statement in SQL through the proxy, with `$1`… for the parameters of key number `i`. */
  sql: string;
  params(i: number): unknown[];
  /** The statement with key number `i` spelled as a literal, for the simple query protocol. */
  literalSql(i: number): string;
  /** The same driver through a relay on `relayPort` to the store's `port` (side "relay"), when the store has it. */
  relayed?: {
    port: number;
    connect(relayPort: number): Promise<{ run(i: number): Promise<number>; stop(): Promise<void> }>;
  };
  stop(): Promise<void>;
}

export interface PluginWorkload {
  name: string;
  /** Shown in the table. */
  label: string;
  /** Rows each measured statement returns (1 for a point read); a run whose statements return other counts fails. */
  rowsPerStatement: number;
  start(baseDir: string): Promise<PluginStore>;
}
