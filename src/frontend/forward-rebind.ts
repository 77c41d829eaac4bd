// A one-shard session whose database a reshard makes sharded in place: between transactions it waits at the
// reshard's gate while the cutover holds statements, then moves to the engine binding (issue 19, 1 -> N).
import type { Database } from '../backend/database.js';
import { gateOf, type ReshardGate } from '../backend/reshard-gate.js';
import { ProxyError } from '../errors.js';
import type { ForwardBinding } from './bindings/forward-binding.js';
import { idleBetween } from './bindings/forward-state.js';

/** What the rebind needs of its client session. */
export interface RebindHost {
  readonly db: Database;
  readonly closed: boolean;
  /** Gives the client's bytes to whichever binding serves the session now. */
  onData(chunk: Buffer): void;
  /** The engine binding serves the session from now on, seeded with what the forward binding held. */
  moveToEngine(): void;
  terminate(err: ProxyError): void;
}

export class ForwardRebind {
  private readonly gate: ReshardGate;
  /** The client's bytes while the gate holds the session, in order. */
  private held: Buffer[] | null = null;

  constructor(
    private readonly host: RebindHost,
    private readonly forward: ForwardBinding,
  ) {
    this.gate = gateOf(host.db.cluster);
  }

  /** Whether a chunk must be looked at before the forward binding takes it (cheap: the fast path's one test). */
  get due(): boolean {
    return this.held !== null || this.gate.closed || this.host.db.cluster.sharded;
  }

  /**
   * Takes the chunk when the session is between transactions: held while the gate is closed, or given to the
   * engine once the database is sharded. False inside a transaction: the forward binding finishes it first
   * (the cutover waits for it before the switch).
   */
  take(chunk: Buffer): boolean {
    if (this.held !== null) {
      this.held.push(chunk);
      return true;
    }
    if (!idleBetween(this.forward)) return false;
    if (this.gate.closed) {
      this.held = [chunk];
      void this.waitGate();
      return true;
    }
    this.host.moveToEngine();
    this.host.onData(chunk);
    return true;
  }

  private async waitGate(): Promise<void> {
    try {
      await this.gate.pass();
    } catch (err) {
      // Still closed: this instance must not serve the database (refused); an abandoned cutover reopens it.
      if (this.gate.closed && !this.host.closed) {
        const message = err instanceof Error ? err.message : String(err);
        this.host.terminate(new ProxyError('reshardRefused', message, undefined, 'FATAL'));
        return;
      }
    }
    const held = this.held ?? [];
    this.held = null;
    for (const chunk of held) if (!this.host.closed) this.host.onData(chunk);
  }
}
