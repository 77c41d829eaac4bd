// CPU per transaction from /proc: a process that burns CPU is charged for it.
import { describe, expect, it } from 'vitest';
import { cpuMeter } from '../../../src/bench/process-cpu.js';

describe('cpuMeter', () => {
  it.runIf(process.platform === 'linux')(
    'charges the CPU a process spent, divided by the transactions',
    () => {
      const meter = cpuMeter([process.pid]);
      const until = Date.now() + 300;
      let spin = 0;
      while (Date.now() < until) spin++;
      const perTx = meter(1000)!;
      expect(spin).toBeGreaterThan(0);
      // About 300 ms over 1000 transactions; /proc counts in 10 ms ticks and the test runner adds its own.
      expect(perTx).toBeGreaterThan(200);
      expect(perTx).toBeLessThan(2000);
      expect(meter(null)).toBeNull();
    },
  );

  it('measures nothing without processes', () => {
    expect(cpuMeter([])(100)).toBeNull();
  });
});
