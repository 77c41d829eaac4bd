// Where a one-shard session stands once something it waited on moved: a plugin call, its server, its queue.
import type { ServerConnection } from '../../backend/server-connection.js';
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
