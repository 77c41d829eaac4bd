// The bench's sharding table: each sharded cell against its unsharded baseline of the same mode and clients.
import { describe, expect, it } from 'vitest';
import { formatShardingRatios } from '../../../src/bench/table.js';
import type { CellSummary } from '../../../src/bench/summary.js';

const cell = (
  workload: string,
  mode: 'simple' | 'prepared',
  tps: number,
  baseline?: string,
): CellSummary => ({
  workload,
  workloadLabel: workload,
  baseline,
  mode,
  clients: 16,
  targets: { polyproxy: { tps, latencyMs: 1, runs: 1, failures: 0 } },
});

describe('formatShardingRatios', () => {
  it('divides each sharded cell by its baseline cell', () => {
    const text = formatShardingRatios([
      cell('select-only', 'simple', 20000),
      cell('select-only', 'prepared', 25000),
      cell('sharded', 'simple', 15000, 'select-only'),
      cell('sharded', 'prepared', 20000, 'select-only'),
    ]);
    const rows = text.split('\n').slice(2);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/sharded .*simple .*select-only .*0\.75 \|$/);
    expect(rows[1]).toMatch(/sharded .*prepared .*select-only .*0\.80 \|$/);
  });

  it('prints nothing without a baseline that ran', () => {
    expect(formatShardingRatios([cell('sharded', 'simple', 15000, 'select-only')])).toBe('');
  });
});
