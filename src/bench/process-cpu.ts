// The CPU time a target's own processes spend per transaction, read from /proc around each run.
import { execFileSync } from 'node:child_process';
import { treeCpuTicks } from '../sandbox/pids.js';

let ticksPerSecond: number | undefined;

/** The unit of /proc's CPU times (USER_HZ); 100 on nearly every Linux. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU ticks (user + system, all threads) the processes and their descendants have used so far. */
export const processTicks = (pids: number[]) => pids.reduce((sum, pid) => sum + treeCpuTicks(pid), 0);

/**
 * Starts counting the CPU time of the given processes and their descendants. The returned function gives
 * the microseconds spent per transaction since then, or null when there is nothing to divide by.
 * Unlike tps, which moves with everything else on the machine, this says what the target itself costs.
 */
export function cpuMeter(pids: number[]): (transactions: number | null) => number | null {
  if (pids.length === 0 || process.platform !== 'linux') return () => null;
  const before = processTicks(pids);
  return (transactions) => {
    if (!transactions) return null;
    return (((processTicks(pids) - before) / clockTicksPerSecond()) * 1e6) / transactions;
  };
}
