// Medians per cell and target over the rounds, and the ratios the table shows.
import type { QueryMode } from './options.js';
import type { PgbenchReport } from './pgbench.js';
import type { Cell } from './targets/index.js';
import { workloadByName } from './workloads.js';

export interface RunRecord {
  round: number;
  workload: string;
  mode: QueryMode;
  clients: number;
  target: string;
  variant?: string;
  /** Set on an unsharded baseline run placed beside this sharded workload's run (see schedule.ts). */
  pairOf?: string;
  startedAt: string;
  report: PgbenchReport;
  /** CPU time of the target's own processes per transaction (µs); null for PostgreSQL itself. */
  cpuUsPerTx?: number | null;
}

export interface TargetSummary {
  /** Median over successful runs; null when none succeeded. */
  tps: number | null;
  latencyMs: number | null;
  /** Median CPU time of the target's processes per transaction (µs), when the target reports them. */
  cpuUsPerTx: number | null;
  runs: number;
  failures: number;
  variant?: string;
}

/** A sharded cell against the baseline runs that ran right beside its own, round by round. */
export interface PairedBaseline {
  /** The unsharded workload's label. */
  workloadLabel: string;
  /** Median tps and CPU per transaction of the paired baseline runs. */
  tps: number | null;
  cpuUsPerTx: number | null;
  /** Median over rounds of (this cell's tps / its paired baseline's tps). */
  tpsRatio: number | null;
  /** Median over rounds of (this cell's CPU per transaction − its paired baseline's). */
  cpuUsPerTxExtra: number | null;
  pairs: number;
}

export interface CellSummary {
  workload: string;
  workloadLabel: string;
  /** The unsharded workload this one is compared with through polyproxy. */
  baseline?: string;
  mode: QueryMode;
  clients: number;
  targets: Record<string, TargetSummary>;
  paired?: PairedBaseline;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const cpuOf = (runs: RunRecord[]) => runs.flatMap((r) => (r.cpuUsPerTx == null ? [] : [r.cpuUsPerTx]));

function summarizeTarget(runs: RunRecord[]): TargetSummary {
  const good = runs.filter((r) => r.report.ok);
  return {
    tps: median(good.map((r) => r.report.tps!)),
    latencyMs: median(good.flatMap((r) => (r.report.latencyMs === null ? [] : [r.report.latencyMs]))),
    cpuUsPerTx: median(cpuOf(good)),
    runs: runs.length,
    failures: runs.length - good.length,
    variant: runs.find((r) => r.variant)?.variant,
  };
}

/** Each successful sharded run with the successful baseline run of its round, paired with it. */
function summarizePairs(cell: Cell, baseline: string, records: RunRecord[]): PairedBaseline | undefined {
  const sameShape = (r: RunRecord) => r.report.ok && r.mode === cell.mode && r.clients === cell.clients;
  const baselines = records.filter((r) => sameShape(r) && r.pairOf === cell.workload.name);
  if (baselines.length === 0) return undefined;
  const pairs = baselines.flatMap((base) => {
    const run = records.find(
      (r) =>
        sameShape(r) &&
        !r.pairOf &&
        r.workload === cell.workload.name &&
        r.target === base.target &&
        r.round === base.round,
    );
    return run ? [{ run, base }] : [];
  });
  const differences = pairs.flatMap(({ run, base }) =>
    run.cpuUsPerTx == null || base.cpuUsPerTx == null ? [] : [run.cpuUsPerTx - base.cpuUsPerTx],
  );
  const variant = baselines.find((r) => r.variant)?.variant;
  return {
    workloadLabel: workloadByName(baseline).label + (variant ? ` (${variant})` : ''),
    tps: median(baselines.map((r) => r.report.tps!)),
    cpuUsPerTx: median(cpuOf(baselines)),
    tpsRatio: median(pairs.map(({ run, base }) => run.report.tps! / base.report.tps!)),
    cpuUsPerTxExtra: median(differences),
    pairs: pairs.length,
  };
}

/** Medians per cell and target; paired baseline runs count only in their sharded cell's comparison. */
export function summarize(cells: Cell[], targetNames: string[], records: RunRecord[]): CellSummary[] {
  return cells.map((cell) => {
    const inCell = records.filter(
      (r) =>
        !r.pairOf && r.workload === cell.workload.name && r.mode === cell.mode && r.clients === cell.clients,
    );
    const { baseline } = cell.workload;
    const paired = baseline ? summarizePairs(cell, baseline, records) : undefined;
    const targets = Object.fromEntries(
      targetNames.map((name) => [name, summarizeTarget(inCell.filter((r) => r.target === name))]),
    );
    return {
      workload: cell.workload.name,
      workloadLabel: cell.workload.label,
      baseline: cell.workload.baseline,
      mode: cell.mode,
      clients: cell.clients,
      targets,
      ...(paired && { paired }),
    };
  });
}

/** a / b, or null when either is missing. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a == null || b == null || b === 0 ? null : a / b;
}
