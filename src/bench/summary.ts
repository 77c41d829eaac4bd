// Medians per cell and target over the rounds, and the ratios the table shows.
import type { QueryMode } from './options.js';
import type { PgbenchReport } from './pgbench.js';
import type { Cell } from './targets/index.js';

export interface RunRecord {
  round: number;
  workload: string;
  mode: QueryMode;
  clients: number;
  target: string;
  variant?: string;
  startedAt: string;
  report: PgbenchReport;
}

export interface TargetSummary {
  /** Median over successful runs; null when none succeeded. */
  tps: number | null;
  latencyMs: number | null;
  runs: number;
  failures: number;
  variant?: string;
}

export interface CellSummary {
  workload: string;
  workloadLabel: string;
  /** The unsharded workload this one is compared with through polyproxy. */
  baseline?: string;
  mode: QueryMode;
  clients: number;
  targets: Record<string, TargetSummary>;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summarizeTarget(runs: RunRecord[]): TargetSummary {
  const good = runs.filter((r) => r.report.ok);
  return {
    tps: median(good.map((r) => r.report.tps!)),
    latencyMs: median(good.flatMap((r) => (r.report.latencyMs === null ? [] : [r.report.latencyMs]))),
    runs: runs.length,
    failures: runs.length - good.length,
    variant: runs.find((r) => r.variant)?.variant,
  };
}

export function summarize(cells: Cell[], targetNames: string[], records: RunRecord[]): CellSummary[] {
  return cells.map((cell) => {
    const inCell = records.filter(
      (r) => r.workload === cell.workload.name && r.mode === cell.mode && r.clients === cell.clients,
    );
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
    };
  });
}

/** a / b, or null when either is missing. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a == null || b == null || b === 0 ? null : a / b;
}
