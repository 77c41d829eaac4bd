// What a benchmark target is: something pgbench connects to, started once and stopped at the end.
import type { BenchEnv } from '../bench-env.js';
import type { QueryMode } from '../options.js';
import type { Endpoint } from '../pgbench.js';
import type { Workload } from '../workloads.js';

/** One row of the table: a workload in one query mode at one client count. */
export interface Cell {
  workload: Workload;
  mode: QueryMode;
  clients: number;
  /** On an unsharded run paired with a sharded workload's run: that workload. */
  pairedWith?: Workload;
}

export interface Connection {
  endpoint: Endpoint;
  /** Set when the target runs this cell differently from its usual set-up (marked in the table). */
  variant?: string;
}

export interface RunningTarget {
  connectionFor(cell: Cell): Promise<Connection>;
  /** The processes serving this cell, whose CPU time the bench reports per transaction; none for PostgreSQL. */
  pids?(cell: Cell): number[];
  /** What was found out while running (e.g. a fallback), for the report. */
  notes(): string[];
  stop(): Promise<void>;
}

export interface Target {
  name: string;
  start(env: BenchEnv): Promise<RunningTarget>;
}
