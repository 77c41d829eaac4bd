// Where a session of several shards stands once a statement, a shard connection or a plugin call starts or ends.
import type { ServerConnection } from '../../../backend/server-connection.js';
import { State, type SessionStateMachine } from '../../session-state.js';

/** What the engine binding's state follows from. */
export interface EngineFacts {
  readonly host: { readonly closed: boolean; readonly machine: SessionStateMachine };
  readonly inPlugin: boolean;
  readonly server: ServerConnection | null;
  readonly running: boolean;
  readonly inbox: readonly unknown[];
}

/**
 * Moves a live session to where it now stands: in a plugin's call, on a shard connection, waiting (a
 * statement under way without a connection yet, or messages behind one), or idle. Called where one of
 * these facts changes: a statement starts or ends, a shard connection is taken or let go, a call starts or ends.
 */
export function settleEngine(s: EngineFacts): void {
  if (s.host.closed) return;
  if (s.inPlugin) s.host.machine.enter(State.plugin);
  else if (s.server) s.host.machine.enter(State.bound);
  else s.host.machine.enter(s.running || s.inbox.length > 0 ? State.waiting : State.idle);
}
