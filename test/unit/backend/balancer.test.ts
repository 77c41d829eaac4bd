// Replica choice: weighted round robin spreads reads by weight, least connections follows load.
import { describe, expect, it } from 'vitest';
import { Balancer, type BalanceCandidate } from '../../../src/backend/balancer.js';

const host = (address: string, weight = 1, load = 0): BalanceCandidate => ({
  address,
  weight,
  load: () => load,
});

function counts(b: Balancer, hosts: BalanceCandidate[], n: number): Record<string, number> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const h = b.pick(hosts);
    seen[h.address] = (seen[h.address] ?? 0) + 1;
  }
  return seen;
}

describe('Balancer', () => {
  it('round robin alternates evenly with equal weights', () => {
    const b = new Balancer('round_robin');
    const hosts = [host('a'), host('b')];
    const order = Array.from({ length: 4 }, () => b.pick(hosts).address);
    expect(order).toEqual(['a', 'b', 'a', 'b']);
  });

  it('round robin follows weights exactly over a cycle', () => {
    const b = new Balancer('round_robin');
    expect(counts(b, [host('a', 3), host('b', 1)], 400)).toEqual({ a: 300, b: 100 });
  });

  it('least connections picks the least loaded per unit of weight', () => {
    const b = new Balancer('least_connections');
    expect(b.pick([host('a', 1, 5), host('b', 1, 2)]).address).toBe('b');
    expect(b.pick([host('a', 4, 5), host('b', 1, 2)]).address).toBe('a');
  });

  it('random stays within the candidates and roughly follows weights', () => {
    const b = new Balancer('random');
    const seen = counts(b, [host('a', 9), host('b', 1)], 2000);
    expect(Object.keys(seen).sort()).toEqual(['a', 'b']);
    expect(seen.a).toBeGreaterThan(seen.b * 4);
  });
});
