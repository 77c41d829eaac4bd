// The bench's CPU meter for pgbench runs: what a target spends during pgbench's initial connection time is
// not charged to the transactions.
import { describe, expect, it } from 'vitest';
import { steadyCpuMeter, ticksAt } from '../../../src/bench/steady-cpu.js';

const linux = process.platform === 'linux';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spends `ms` of this process's own CPU time (not wall time: a busy machine may give less). */
function spin(ms: number): void {
  const start = process.cpuUsage();
  const spent = () => process.cpuUsage(start).user + process.cpuUsage(start).system;
  while (spent() < ms * 1000);
}

describe('ticksAt', () => {
  it('interpolates between the samples around a moment, and holds at the ends', () => {
    const samples = [
      { at: 0, ticks: 10 },
      { at: 100, ticks: 20 },
      { at: 300, ticks: 60 },
    ];
    expect(ticksAt(samples, 50)).toBe(15);
    expect(ticksAt(samples, 200)).toBe(40);
    expect(ticksAt(samples, -5)).toBe(10);
    expect(ticksAt(samples, 400)).toBe(60);
  });
});

describe('steadyCpuMeter', () => {
  it.runIf(linux)('charges only the CPU spent after the connection time, per tps', async () => {
    const created = performance.now();
    const meter = steadyCpuMeter([process.pid]);
    // The "logins": 600 ms of CPU in the connection time, which a whole-run meter would charge.
    spin(600);
    await sleep(250);
    const connectionMs = performance.now() - created;
    spin(200);
    const windowMs = performance.now() - created - connectionMs;
    // 100 transactions in all at 1000 per second: the whole run would read at least 8,000 µs each.
    const perTx = meter.read({ tps: 1000, transactions: 100, connectionMs })!;
    // At most one core's time per second of the window (plus the runtime's own threads), per 1000 tps.
    expect(perTx).toBeLessThan(1500);
    // At least half the 200 ms spun over the window: the meter interpolates between samples taken every
    // 100 ms (none while the spin holds the event loop), so the window's start may cut part of the spin off.
    expect(perTx).toBeGreaterThan(((100 / windowMs) * 1e6) / 1000);
  });

  it.runIf(linux)('charges the whole run per transaction when pgbench gave no connection time', () => {
    const meter = steadyCpuMeter([process.pid]);
    spin(300);
    const perTx = meter.read({ tps: 1000, transactions: 100, connectionMs: null })!;
    expect(perTx).toBeGreaterThan(2800);
    expect(perTx).toBeLessThan(20_000);
  });

  it('measures nothing without processes', () => {
    expect(steadyCpuMeter([]).read({ tps: 10, transactions: 10, connectionMs: 5 })).toBeNull();
  });
});
