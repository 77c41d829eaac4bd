// A client session's state as data: the state it is in, the transitions allowed between states, and one checked way in.
import type { Logger } from '../logger.js';

/**
 * Where a client session stands: no statement of its own anywhere (idle), waiting for a server connection
 * or for its turn (waiting), holding a server connection (bound), in a plugin's call (plugin), or gone.
 */
export type SessionState = 'idle' | 'waiting' | 'bound' | 'plugin' | 'closed';

/** The states by number: a transition is checked in a small table indexed by the two numbers. */
export const State = { idle: 0, waiting: 1, bound: 2, plugin: 3, closed: 4 } as const;
export type StateNumber = (typeof State)[keyof typeof State];

const names: readonly SessionState[] = ['idle', 'waiting', 'bound', 'plugin', 'closed'];

/**
 * The transitions a session may take. A live session moves between any two live states (a statement may
 * wait for a connection, run on it, call a plugin, give it back in any order), and any of them may end it;
 * nothing leaves `closed`: a connection bound, or a call started, for a session already gone is a leak.
 */
export const transitions: Readonly<Record<SessionState, readonly SessionState[]>> = {
  idle: ['waiting', 'bound', 'plugin', 'closed'],
  waiting: ['idle', 'bound', 'plugin', 'closed'],
  bound: ['idle', 'waiting', 'plugin', 'closed'],
  plugin: ['idle', 'waiting', 'bound', 'closed'],
  closed: [],
};

const width = names.length;
/** allowed[from * width + to] is 1 for a transition in the table. */
const allowed = new Uint8Array(width * width);
for (const [from, tos] of Object.entries(transitions)) {
  for (const to of tos) allowed[names.indexOf(from as SessionState) * width + names.indexOf(to)] = 1;
}

/** Whether the table allows going from one state to another (staying in a state always is). */
export function mayEnter(from: SessionState, to: SessionState): boolean {
  return from === to || allowed[names.indexOf(from) * width + names.indexOf(to)] === 1;
}

export class SessionStateMachine {
  /** The state the session is in, by number (State). */
  current: StateNumber = State.idle;

  constructor(private readonly log: Logger) {}

  get name(): SessionState {
    return names[this.current];
  }

  /**
   * Moves to `to`. A transition outside the table is a bug of the proxy, not of the client: it is logged at
   * error level with both states, and the session goes on in the new state rather than fail the client.
   */
  enter(to: StateNumber): void {
    const from = this.current;
    if (from === to) return;
    if (allowed[from * width + to] === 0)
      this.log.error('illegal session state transition', { from: names[from], to: names[to] });
    this.current = to;
  }
}
