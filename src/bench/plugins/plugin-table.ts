// The plugin workloads' table: median time per statement of each side over the rounds, and its ratio to the driver alone.
import type { PluginRun } from './plugin-bench.js';
import type { PluginWorkload } from './plugin-workload.js';

const median = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export interface PluginSummary {
  workload: string;
  side: string;
  rounds: number;
  wallUs: number | null;
  /** Median over rounds of this side's wall time over the driver's in the same round. */
  ratio: number | null;
  clientCpuUs: number | null;
  proxyCpuUs: number | null;
}

export function summarizePluginRuns(
  workloads: readonly PluginWorkload[],
  runs: PluginRun[],
): PluginSummary[] {
  return workloads.flatMap((workload) => {
    const own = runs.filter((r) => r.workload === workload.name);
    const sides = [...new Set(own.map((r) => r.side))];
    const driverIn = (round: number) => own.find((r) => r.side === 'driver' && r.round === round)?.wallUs;
    return sides.map((side) => {
      const mine = own.filter((r) => r.side === side);
      const ratios = mine.flatMap((r) => {
        const base = driverIn(r.round);
        return base ? [r.wallUs / base] : [];
      });
      return {
        workload: workload.name,
        side,
        rounds: mine.length,
        wallUs: median(mine.map((r) => r.wallUs)),
        ratio: median(ratios),
        clientCpuUs: median(mine.map((r) => r.clientCpuUs)),
        proxyCpuUs: median(mine.flatMap((r) => (r.proxyCpuUs === null ? [] : [r.proxyCpuUs]))),
      };
    });
  });
}

const cell = (value: number | null, digits = 0) => (value === null ? '-' : value.toFixed(digits));

const sideLabel = (side: string): string => {
  if (side === 'driver') return 'driver alone';
  if (side === 'relay') return 'driver via node-pipe';
  return side.startsWith('baseline') ? side : `polyproxy ${side}`;
};

export function formatPluginTable(summaries: PluginSummary[]): string {
  const header = ['workload', 'side', 'µs/statement', '× driver', 'client cpu µs', 'proxy cpu µs', 'rounds'];
  const rows = summaries.map((s) => [
    s.workload,
    sideLabel(s.side),
    cell(s.wallUs),
    cell(s.ratio, 2),
    cell(s.clientCpuUs),
    cell(s.proxyCpuUs),
    String(s.rounds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
