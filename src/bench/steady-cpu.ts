// CPU per transaction of a pgbench run's steady part: from the moment every client is connected to the end.
//
// pgbench's tps leaves out the initial connection time, but CPU read around the whole run counts the logins
// too (SCRAM, pool warm-up) and divided them by the transactions: a short run with slow logins (2 s of
// connecting out of 2, 38 transactions) read 5,789 µs per transaction. Here the CPU spent per second of
// steady load is divided by the transactions per second.
import { readFileSync } from 'node:fs';
import { clockTicksPerSecond, cpuMeter, processTicks } from './process-cpu.js';

/** How often the connections are counted while the clients log in. */
const pollMs = 20;

/** Established TCP connections whose local port is `port` (the accepted side of its clients), from /proc/net. */
export function acceptedConnections(port: number, tables = ['/proc/net/tcp', '/proc/net/tcp6']): number {
  let count = 0;
  for (const table of tables) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl, local address:port (hex), remote address:port, state (01 = ESTABLISHED), ...
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '01' || !local) continue;
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) count++;
    }
  }
  return count;
}

export interface SteadyCpuMeter {
  /** CPU µs per transaction; null without processes, a count or a rate to divide by. Ends the watching. */
  read(report: { tps: number | null; transactions: number | null }): number | null;
}

/**
 * Starts watching `pids` (and their descendants) while `clients` connect to `port`. Once all are connected,
 * the CPU counted from then on is divided by tps; if that moment was never seen (the run failed, or the
 * counting is impossible here), the CPU of the whole run is divided by the transactions, as `cpuMeter` does.
 */
export function steadyCpuMeter(pids: number[], port: number, clients: number): SteadyCpuMeter {
  const whole = cpuMeter(pids);
  if (pids.length === 0 || process.platform !== 'linux') return { read: () => null };
  let steady: { ticks: number; at: number } | null = null;
  const timer = setInterval(() => {
    if (acceptedConnections(port) < clients) return;
    steady = { ticks: processTicks(pids), at: performance.now() };
    clearInterval(timer);
  }, pollMs);
  return {
    read({ tps, transactions }) {
      clearInterval(timer);
      if (steady === null || !tps) return whole(transactions);
      const seconds = (performance.now() - steady.at) / 1000;
      const cpuSeconds = (processTicks(pids) - steady.ticks) / clockTicksPerSecond();
      return seconds > 0 ? ((cpuSeconds / seconds) * 1e6) / tps : null;
    },
  };
}
