// The interleaved run order: every round visits every cell, and within a cell every target back to back.
import type { BenchOptions } from './options.js';
import type { Cell } from './targets/index.js';
import { workloadByName } from './workloads.js';

export interface ScheduledRun {
  round: number;
  cell: Cell;
  target: string;
}

/** Cells in table order: workload, then query mode, then client count. */
export function cellsOf(options: BenchOptions): Cell[] {
  return options.workloads.flatMap((name) => {
    const workload = workloadByName(name);
    const modes = workload.modes?.filter((m) => options.modes.includes(m)) ?? options.modes;
    return (modes.length > 0 ? modes : options.modes).flatMap((mode) =>
      (workload.clients ?? options.clients).map((clients) => ({ workload, mode, clients })),
    );
  });
}

/**
 * Targets alternate between forward and reverse order from round to round, so none always runs right after
 * the same neighbour (whose left-over load or dirty pages it would inherit).
 */
export function schedule(cells: Cell[], targetNames: string[], rounds: number): ScheduledRun[] {
  const runs: ScheduledRun[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? targetNames : [...targetNames].reverse();
    for (const cell of cells) for (const target of order) runs.push({ round, cell, target });
  }
  return runs;
}
