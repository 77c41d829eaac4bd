// The pause gate of a sharded database during a reshard's cutover: statements that start outside a
// transaction block wait here before they route, so none is routed by the old shard map once the switch begins.
import type { Cluster } from './cluster.js';
import type { StatementError } from './statement-error.js';

export class ReshardGate {
  /** Settles when the gate opens (null) or refuses (the error); null while open. */
  private waiting: Promise<StatementError | null> | null = null;
  private settle: ((outcome: StatementError | null) => void) | null = null;

  /** The one branch statements take when no cutover runs. */
  get closed(): boolean {
    return this.waiting !== null;
  }

  /** New statements wait from now on; those already routed run on. */
  close(): void {
    if (this.settle) return;
    this.waiting = new Promise((resolve) => (this.settle = resolve));
  }

  /** Waiting statements go on (on the new shards when the switch happened meanwhile). */
  open(): void {
    this.settleWith(null);
    this.waiting = null;
  }

  /** Waiting statements get `error`; the gate opens for the statements after them. */
  fail(error: StatementError): void {
    this.settleWith(error);
    this.waiting = null;
  }

  /** Waiting statements and every later one get `error` until open(): this instance must not serve. */
  refuse(error: StatementError): void {
    this.settleWith(error);
    this.waiting = Promise.resolve(error);
  }

  private settleWith(outcome: StatementError | null): void {
    const settle = this.settle;
    this.settle = null;
    settle?.(outcome);
  }

  /** Resolves once the gate is open; rejects with the error of fail() or refuse(). */
  async pass(): Promise<void> {
    while (this.waiting) {
      const error = await this.waiting;
      if (error) throw error;
    }
  }
}

const gates = new WeakMap<Cluster, ReshardGate>();

/** The gate of a sharded database's cluster (one per cluster, made on first use). */
export function gateOf(cluster: Cluster): ReshardGate {
  let gate = gates.get(cluster);
  if (!gate) gates.set(cluster, (gate = new ReshardGate()));
  return gate;
}
