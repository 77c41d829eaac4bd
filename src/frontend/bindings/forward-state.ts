// Where a one-shard session stands once something it waited on moved (a plugin call, its server, its queue),
// and whether it is between transactions.
import type { ServerConnection } from '../../backend/server-connection.js';
import { TxStatus } from '../../protocol/codes.js';
import type { SessionPlugins } from '../session-plugins.js';
import { State, type SessionStateMachine, type StateNumber } from '../session-state.js';

/** What the one-shard binding's state follows from. */
export interface StateFacts {
  readonly host: { readonly closed: boolean; readonly machine: SessionStateMachine };
  readonly pluginSteps: SessionPlugins | null;
  readonly server: ServerConnection | null;
  readonly queue: readonly unknown[];
  readonly attach: { readonly attaching: boolean };
}

/**
 * The state after the queue moved, a plugin call started or ended, a wait failed or the server went back
 * (a plugin call outranks the server it may run beside; queued messages without a server wait).
 */
function settledState(b: StateFacts): StateNumber {
  if (b.pluginSteps?.busy) return State.plugin;
  if (b.server) return State.bound;
  return b.queue.length > 0 || b.attach.attaching ? State.waiting : State.idle;
}

/** Moves a live session to its settled state; the pump calls it where it ends, as it starts and resumes plugin calls. */
export function settle(b: StateFacts): void {
  if (!b.host.closed) b.host.machine.enter(settledState(b));
}

/** What tells a one-shard session is between transactions. */
export interface BetweenFacts extends StateFacts {
  readonly txStatus: number;
  readonly inBlock: boolean;
  readonly commitHold: { readonly committing: boolean };
  readonly positions: { readonly learning: number };
  readonly classifying: number;
  readonly framer: { readonly atBoundary: boolean };
}

/**
 * No server held, nothing queued, classified or committing, no commit position being learnt, no plugin call
 * running, no message half read: a reshard may pause the session here, or move it to another binding.
 */
export function idleBetween(b: BetweenFacts): boolean {
  return (
    b.server === null &&
    b.classifying === 0 &&
    b.framer.atBoundary &&
    b.queue.length === 0 &&
    !b.inBlock &&
    b.txStatus === TxStatus.Idle &&
    !b.attach.attaching &&
    !b.commitHold.committing &&
    b.positions.learning === 0 &&
    !b.pluginSteps?.busy
  );
}
