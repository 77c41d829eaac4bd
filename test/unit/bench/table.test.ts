// The bench's tables: CPU columns for metered targets, and each sharded cell against its paired baseline runs.
import { describe, expect, it } from 'vitest';
import { formatShardingRatios, formatTable } from '../../../src/bench/table.js';
import type { CellSummary, PairedBaseline } from '../../../src/bench/summary.js';

const cell = (
  workload: string,
  tps: number,
  cpuUsPerTx: number | null,
  paired?: PairedBaseline,
): CellSummary => ({
  workload,
  workloadLabel: workload,
  mode: 'simple',
  clients: 16,
  targets: { polyproxy: { tps, latencyMs: 1, cpuUsPerTx, runs: 3, failures: 0 } },
  ...(paired && { paired }),
});

const paired = (tpsRatio: number, extra: number): PairedBaseline => ({
  workloadLabel: 'select-only',
  tps: 20000,
  cpuUsPerTx: 20,
  tpsRatio,
  cpuUsPerTxExtra: extra,
  pairs: 3,
});

describe('formatShardingRatios', () => {
  it('shows the median of paired ratios and the extra CPU per transaction', () => {
    const text = formatShardingRatios([
      cell('select-only', 21000, 19.5),
      cell('sharded', 19000, 21.5, paired(0.96, 1.5)),
    ]);
    const rows = text.split('\n').slice(2);
    expect(rows).toHaveLength(1);
    const columns = rows[0]
      .split('|')
      .map((c) => c.trim())
      .filter(Boolean);
    expect(columns).toEqual([
      'sharded',
      'simple',
      '16',
      'select-only',
      '3',
      '19000',
      '20000',
      '0.96',
      '21.5',
      '20.0',
      '+1.5',
    ]);
  });

  it('prints nothing without paired runs', () => {
    expect(formatShardingRatios([cell('sharded', 15000, null)])).toBe('');
  });
});

describe('formatTable', () => {
  it('adds a CPU column only for targets that reported CPU', () => {
    const withCpu = formatTable([cell('select-only', 20000, 12.34)], ['polyproxy']);
    expect(withCpu.split('\n')[0]).toContain('cpu µs/tx polyproxy');
    expect(withCpu.split('\n')[2]).toMatch(/ 12\.3 \|/);
    const without = formatTable([cell('select-only', 20000, null)], ['polyproxy']);
    expect(without).not.toContain('cpu µs/tx');
  });
});

describe('reference targets', () => {
  it('compares each reference relay with PgBouncer', () => {
    const summary: CellSummary = {
      workload: 'select-only',
      workloadLabel: 'select-only',
      mode: 'simple',
      clients: 16,
      targets: Object.fromEntries(
        [
          ['pgbouncer', 30000],
          ['polyproxy', 24000],
          ['c-pipe', 33000],
        ].map(([name, tps]) => [
          name,
          { tps: tps as number, latencyMs: 1, cpuUsPerTx: null, runs: 1, failures: 0 },
        ]),
      ),
    };
    const [header, , row] = formatTable([summary], ['pgbouncer', 'polyproxy', 'c-pipe']).split('\n');
    expect(header).toMatch(/polyproxy\/pgbouncer .*\| c-pipe\/pgbouncer \|$/);
    expect(row).toMatch(/ 0\.80 \| +1\.10 \|$/);
  });
});
