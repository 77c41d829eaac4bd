// Bench medians: paired baseline runs are compared round by round and kept out of their own cell.
import { describe, expect, it } from 'vitest';
import { summarize, type RunRecord } from '../../../src/bench/summary.js';
import { workloadByName } from '../../../src/bench/workloads.js';

const report = (tps: number | null) => ({
  ok: tps !== null,
  tps,
  latencyMs: 1,
  transactions: tps === null ? null : tps * 5,
  failed: 0,
  exitCode: tps === null ? 1 : 0,
  timedOut: false,
  args: [],
  output: '',
});

const record = (
  round: number,
  workload: string,
  tps: number | null,
  cpu: number,
  pairOf?: string,
): RunRecord => ({
  round,
  workload,
  mode: 'simple',
  clients: 16,
  target: 'polyproxy',
  startedAt: '',
  report: report(tps),
  cpuUsPerTx: tps === null ? null : cpu,
  ...(pairOf && { pairOf }),
});

const cells = ['select-only', 'sharded-point-read'].map((name) => ({
  workload: workloadByName(name),
  mode: 'simple' as const,
  clients: 16,
}));

describe('summarize', () => {
  const records = [
    record(0, 'select-only', 30000, 10),
    record(0, 'select-only', 20000, 11, 'sharded-point-read'),
    record(0, 'sharded-point-read', 19000, 13),
    record(1, 'select-only', 32000, 10),
    record(1, 'sharded-point-read', 30000, 12),
    record(1, 'select-only', 30000, 10, 'sharded-point-read'),
    record(2, 'select-only', 10000, 9, 'sharded-point-read'),
    record(2, 'sharded-point-read', null, 0),
  ];
  const [unsharded, sharded] = summarize(cells, ['polyproxy'], records);

  it('keeps paired runs out of the baseline cell', () => {
    expect(unsharded.targets.polyproxy).toMatchObject({ tps: 31000, cpuUsPerTx: 10, runs: 2 });
    expect(unsharded.paired).toBeUndefined();
  });

  it('compares each sharded run with the baseline run of its own round, skipping failed runs', () => {
    expect(sharded.targets.polyproxy).toMatchObject({ tps: 24500, runs: 3, failures: 1 });
    // Pairs: 19000/20000 = 0.95 and 30000/30000 = 1; round 2's sharded run failed.
    expect(sharded.paired).toMatchObject({ pairs: 2, tps: 20000, cpuUsPerTx: 10, cpuUsPerTxExtra: 2 });
    expect(sharded.paired!.tpsRatio).toBeCloseTo(0.975);
  });
});
