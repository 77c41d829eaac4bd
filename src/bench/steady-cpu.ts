// CPU per transaction of a pgbench run's steady part: from the end of pgbench's initial connection time on.
//
// pgbench's tps leaves out the initial connection time, but CPU read around the whole run counts the logins
// too (SCRAM, pool warm-up) and divided them by the transactions: a short run with slow logins (2 s of
// connecting out of 2, 38 transactions) read 5,789 µs per transaction. Here the CPU is sampled through the
// run, and the CPU spent per second after the connection time is divided by the transactions per second.
import { clockTicksPerSecond, cpuMeter, processTicks } from './process-cpu.js';

/** How often the CPU is sampled during the run; the start of the window lies between two samples. */
const sampleMs = 100;

interface Sample {
  at: number;
  ticks: number;
}

/** The ticks at time `at`, interpolated between the samples around it. */
export function ticksAt(samples: Sample[], at: number): number {
  const after = samples.findIndex((s) => s.at >= at);
  if (after <= 0) return after === 0 ? samples[0].ticks : samples[samples.length - 1].ticks;
  const [a, b] = [samples[after - 1], samples[after]];
  return a.ticks + ((b.ticks - a.ticks) * (at - a.at)) / (b.at - a.at);
}

export interface SteadyCpuMeter {
  /** CPU µs per transaction; null without processes, a count or a rate to divide by. Ends the sampling. */
  read(report: {
    tps: number | null;
    transactions: number | null;
    connectionMs?: number | null;
  }): number | null;
}

/**
 * Starts sampling the CPU of `pids` (and their descendants) as a pgbench run starts. Without a connection
 * time in the report (or a rate), the CPU of the whole run is divided by the transactions, as `cpuMeter` does.
 */
export function steadyCpuMeter(pids: number[]): SteadyCpuMeter {
  const whole = cpuMeter(pids);
  if (pids.length === 0 || process.platform !== 'linux') return { read: () => null };
  const sample = () => ({ at: performance.now(), ticks: processTicks(pids) });
  const samples = [sample()];
  const timer = setInterval(() => samples.push(sample()), sampleMs);
  return {
    read({ tps, transactions, connectionMs }) {
      clearInterval(timer);
      const end = sample();
      const start = samples[0].at + (connectionMs ?? 0);
      if (!connectionMs || !tps || end.at <= start) return whole(transactions);
      samples.push(end);
      const cpuSeconds = (end.ticks - ticksAt(samples, start)) / clockTicksPerSecond();
      return ((cpuSeconds / ((end.at - start) / 1000)) * 1e6) / tps;
    },
  };
}
