// The bench's run order: targets alternate per round; a sharded cell's polyproxy run has its baseline beside it.
import { describe, expect, it } from 'vitest';
import { schedule } from '../../../src/bench/schedule.js';
import { workloadByName } from '../../../src/bench/workloads.js';

const cellOf = (name: string) => ({ workload: workloadByName(name), mode: 'simple' as const, clients: 16 });
const label = (r: ReturnType<typeof schedule>[number]) =>
  `${r.round}:${r.cell.workload.name}:${r.target}${r.pairOf ? `:pair-of-${r.pairOf}` : ''}`;

describe('schedule', () => {
  it('pairs each sharded polyproxy run with a baseline run, before it in even rounds and after it in odd', () => {
    const runs = schedule(
      [cellOf('select-only'), cellOf('sharded-point-read')],
      ['pgbouncer', 'polyproxy'],
      2,
    );
    expect(runs.map(label)).toEqual([
      '0:select-only:pgbouncer',
      '0:select-only:polyproxy',
      '0:sharded-point-read:pgbouncer',
      '0:select-only:polyproxy:pair-of-sharded-point-read',
      '0:sharded-point-read:polyproxy',
      '1:select-only:polyproxy',
      '1:select-only:pgbouncer',
      '1:sharded-point-read:polyproxy',
      '1:select-only:polyproxy:pair-of-sharded-point-read',
      '1:sharded-point-read:pgbouncer',
    ]);
  });

  it('keeps the mode and client count of the sharded cell in its pair, and names the sharded workload', () => {
    const cell = { workload: workloadByName('sharded-point-read'), mode: 'prepared' as const, clients: 64 };
    const [pair] = schedule([cell], ['polyproxy'], 1);
    expect(pair).toMatchObject({ pairOf: 'sharded-point-read', cell: { mode: 'prepared', clients: 64 } });
    expect(pair.cell.workload.name).toBe('select-only');
    // The target gives the pair as many server connections as the sharded run has (see polyproxy.ts).
    expect(pair.cell.pairedWith?.name).toBe('sharded-point-read');
  });
});
