// The election rules of role: auto over observed facts: timelines, recovery, the epoch record, streaming.
import { describe, expect, it } from 'vitest';
import { elect, parseTimeline, type HostFacts } from '../../../src/backend/primary-election.js';

const A = '127.0.0.1:5432';
const B = '127.0.0.1:5433';
const C = '127.0.0.1:5434';

const primary = (address: string, timeline: number, more: Partial<HostFacts> = {}): HostFacts => ({
  address,
  up: true,
  inRecovery: false,
  timeline,
  recorded: null,
  upstream: null,
  ...more,
});
const replica = (address: string, timeline: number, more: Partial<HostFacts> = {}): HostFacts =>
  primary(address, timeline, { inRecovery: true, ...more });
const down = (address: string): HostFacts => ({
  address,
  up: false,
  inRecovery: null,
  timeline: null,
  recorded: null,
  upstream: null,
});

describe('elect', () => {
  it('chooses the one writable host and remembers its timeline', () => {
    expect(elect([primary(A, 1), replica(B, 1, { upstream: A })], 0)).toEqual({
      kind: 'elected',
      address: A,
      timeline: 1,
      floor: 1,
    });
  });

  it('follows a promotion to a newer timeline', () => {
    expect(elect([down(A), primary(B, 2), replica(C, 1)], 1)).toMatchObject({ kind: 'elected', address: B });
  });

  it('never goes back to the old primary that came back writable on an older timeline', () => {
    // The config still lists A first; a proxy started now (floor 0) sees both.
    expect(elect([primary(A, 1), primary(B, 2), replica(C, 1, { upstream: A })], 0)).toMatchObject({
      kind: 'elected',
      address: B,
      floor: 2,
    });
  });

  it('while the promoted server misses checks, has no primary rather than the older one', () => {
    const e = elect([primary(A, 1), down(B), replica(C, 1)], 2);
    expect(e).toMatchObject({ kind: 'none', floor: 2 });
    expect(e.kind === 'none' && e.why).toBe(`${A} is on timeline 1, older than timeline 2`);
  });

  it('learns the newest timeline from the epoch record a replica holds (a new instance, the promoted host down)', () => {
    const e = elect(
      [
        primary(A, 1, { recorded: { timeline: 1, host: A } }),
        down(B),
        replica(C, 1, { recorded: { timeline: 2, host: B } }),
      ],
      0,
    );
    expect(e).toMatchObject({ kind: 'none', floor: 2 });
    expect(e.kind === 'none' && e.why).toContain(`where ${B} was chosen`);
  });

  it('learns the newest timeline from a replica that has reached it', () => {
    expect(elect([primary(A, 1), down(B), replica(C, 2)], 0)).toMatchObject({ kind: 'none', floor: 2 });
  });

  it('refuses to decide between two writable hosts on the same timeline, naming both', () => {
    const e = elect([primary(A, 1), primary(B, 1)], 0);
    expect(e).toMatchObject({ kind: 'conflict', timeline: 1, hosts: [A, B] });
    expect(e.kind === 'conflict' && e.why).toBe(
      `two hosts claim to be primary on timeline 1: ${A} and ${B}; writes are refused until only one of them accepts writes`,
    );
  });

  it('names the replicas streaming from each claimant and the last recorded choice, but still refuses', () => {
    const facts = [
      primary(A, 3, { recorded: { timeline: 3, host: A } }),
      primary(B, 3, { recorded: { timeline: 3, host: A } }),
      replica(C, 3, { upstream: B }),
    ];
    const e = elect(facts, 0);
    expect(e.kind).toBe('conflict');
    expect(e.kind === 'conflict' && e.why).toBe(
      `two hosts claim to be primary on timeline 3: ${A} and ${B} (replicas streaming from it: ${C}); ` +
        `the last recorded choice on it was ${A}; writes are refused until only one of them accepts writes`,
    );
  });

  it('a conflict on an older timeline is no conflict: the newer host wins', () => {
    expect(elect([primary(A, 1), primary(C, 1), primary(B, 2)], 0)).toMatchObject({
      kind: 'elected',
      address: B,
    });
  });

  it('never lowers the floor, even when every host reports an older timeline', () => {
    expect(elect([primary(A, 2)], 3)).toMatchObject({ kind: 'none', floor: 3 });
  });

  it('does not choose a writable host whose timeline is unknown', () => {
    expect(elect([{ ...primary(A, 1), timeline: null }], 0)).toMatchObject({ kind: 'none' });
  });

  it('has no primary when every host is down or in recovery', () => {
    const e = elect([down(A), replica(B, 1)], 1);
    expect(e).toEqual({ kind: 'none', floor: 1, why: 'no host accepts writes' });
  });

  it('ignores what a host that is down reported before (its timeline lives on in the floor)', () => {
    const stale: HostFacts = { ...down(B), timeline: 5, inRecovery: false };
    expect(elect([primary(A, 1), stale], 0)).toMatchObject({ kind: 'elected', address: A, floor: 1 });
  });
});

describe('parseTimeline', () => {
  it('reads the timeline of a WAL file name and plain numbers', () => {
    expect(parseTimeline('000000020000000000000004')).toBe(2);
    expect(parseTimeline('0000001A0000000000000004')).toBe(26);
    expect(parseTimeline('3')).toBe(3);
    expect(parseTimeline(null)).toBeNull();
    expect(parseTimeline('0')).toBeNull();
    expect(parseTimeline('abc')).toBeNull();
  });
});
