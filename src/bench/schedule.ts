// The interleaved run order: every round visits every cell, and within a cell every target back to back.
import type { BenchOptions } from './options.js';
import type { Cell } from './targets/index.js';
import { workloadByName } from './workloads.js';

export interface ScheduledRun {
  round: number;
  cell: Cell;
  target: string;
  /** Set on a baseline run placed right next to this sharded workload's run, for a paired comparison. */
  pairOf?: string;
}

/** The target whose sharded runs get a paired unsharded run: the only one that runs sharded workloads. */
export const pairedTarget = 'polyproxy';

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
 *
 * A sharded workload's polyproxy run gets its unsharded baseline run right beside it (before it in even
 * rounds, after it in odd ones): two runs seconds apart see the same machine, so their ratio is far steadier
 * than a ratio of cells minutes apart.
 */
export function schedule(cells: Cell[], targetNames: string[], rounds: number): ScheduledRun[] {
  const runs: ScheduledRun[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? targetNames : [...targetNames].reverse();
    for (const cell of cells)
      for (const target of order) {
        const run = { round, cell, target };
        const baseline = target === pairedTarget ? cell.workload.baseline : undefined;
        if (!baseline) {
          runs.push(run);
          continue;
        }
        const pair = {
          round,
          cell: { ...cell, workload: workloadByName(baseline), pairedWith: cell.workload },
          target,
          pairOf: cell.workload.name,
        };
        runs.push(...(round % 2 === 0 ? [pair, run] : [run, pair]));
      }
  }
  return runs;
}
