// CPU per transaction from /proc: a process that burns CPU is charged for it.
import { describe, expect, it } from 'vitest';
import { cpuMeter } from '../../../src/bench/process-cpu.js';

describe('cpuMeter', () => {
  it.runIf(process.platform === 'linux')(
    'charges the CPU a process spent, divided by the transactions',
    () => {
      const meter = cpuMeter([process.pid]);
      // 300 ms of this process's own CPU time, not wall time: a busy machine may not give it that much.
      const start = process.cpuUsage();
      const spent = () => process.cpuUsage(start).user + process.cpuUsage(start).system;
      let spin = 0;
      while (spent() < 300_000) spin++;
      const perTx = meter(1000)!;
      expect(spin).toBeGreaterThan(0);
      // At least 300 ms over 1000 transactions; /proc counts in 10 ms ticks and the runner adds its own.
      expect(perTx).toBeGreaterThan(280);
      expect(perTx).toBeLessThan(2000);
      expect(meter(null)).toBeNull();
    },
  );

  it('measures nothing without processes', () => {
    expect(cpuMeter([])(100)).toBeNull();
  });
});
