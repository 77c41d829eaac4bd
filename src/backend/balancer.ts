// Picks one replica for a read: weighted round robin, least connections, or weighted random.
export type BalancePolicy = 'round_robin' | 'least_connections' | 'random';

export interface BalanceCandidate {
  address: string;
  weight: number;
  /** Server connections in use plus clients waiting for one. */
  load(): number;
}

export class Balancer {
  /** Smooth weighted round robin state: spreads picks evenly in proportion to weights. */
  private current = new Map<string, number>();

  constructor(private readonly policy: BalancePolicy) {}

  pick<T extends BalanceCandidate>(candidates: T[]): T {
    if (candidates.length === 1) return candidates[0];
    switch (this.policy) {
      case 'least_connections':
        return candidates.reduce((best, c) => (c.load() / c.weight < best.load() / best.weight ? c : best));
      case 'random': {
        const total = candidates.reduce((sum, c) => sum + c.weight, 0);
        let r = Math.random() * total;
        for (const c of candidates) if ((r -= c.weight) < 0) return c;
        return candidates[candidates.length - 1];
      }
      default: {
        const total = candidates.reduce((sum, c) => sum + c.weight, 0);
        let best = candidates[0];
        let bestScore = -Infinity;
        for (const c of candidates) {
          const score = (this.current.get(c.address) ?? 0) + c.weight;
          this.current.set(c.address, score);
          if (score > bestScore) {
            best = c;
            bestScore = score;
          }
        }
        this.current.set(best.address, bestScore - total);
        return best;
      }
    }
  }
}
