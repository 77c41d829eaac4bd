// Replica lag from WAL positions: zero when caught up, the age of the oldest unreplayed primary position otherwise.
import { describe, expect, it } from 'vitest';
import { LagTracker } from '../../../src/backend/lag-tracker.js';
import { formatLsn, parseLsn } from '../../../src/backend/lsn.js';

describe('LagTracker', () => {
  it('reports zero for a replica that replayed everything the primary had', () => {
    const t = new LagTracker(60_000);
    t.record(100n, 1000);
    t.record(200n, 2000);
    expect(t.lagMs(200n, 5000)).toBe(0);
    expect(t.lagMs(250n, 5000)).toBe(0);
  });

  it('measures from the first primary position the replica has not replayed', () => {
    const t = new LagTracker(60_000);
    t.record(100n, 1000);
    t.record(200n, 2000);
    t.record(300n, 3000);
    expect(t.lagMs(150n, 3500)).toBe(1500);
    expect(t.lagMs(50n, 3500)).toBe(2500);
  });

  it('ignores samples where the primary did not move and forgets old ones', () => {
    const t = new LagTracker(1000);
    t.record(100n, 0);
    t.record(100n, 500);
    t.record(200n, 5000);
    t.record(300n, 6000);
    expect(t.latest()).toBe(300n);
    expect(t.lagMs(250n, 6500)).toBe(500);
  });
});

describe('LSN text', () => {
  it('parses and formats PostgreSQL positions', () => {
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
    expect(formatLsn(parseLsn('0/3000060')!)).toBe('0/3000060');
    expect(parseLsn(null)).toBeNull();
    expect(parseLsn('garbage')).toBeNull();
    expect(parseLsn('0/1')! < parseLsn('1/0')!).toBe(true);
  });
});
