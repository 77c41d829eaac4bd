// The session state machine: its transition table, the numbers it checks by, and how an illegal transition shows.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import {
  mayEnter,
  SessionStateMachine,
  State,
  transitions,
  type SessionState,
} from '../../../src/frontend/session-state.js';

const states: SessionState[] = ['idle', 'waiting', 'bound', 'plugin', 'closed'];

/** A machine whose log lines are kept, so a test can see what was logged and at which level. */
function recorded(): { machine: SessionStateMachine; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(JSON.parse(l)) });
  return { machine: new SessionStateMachine(log), lines };
}

describe('session state machine', () => {
  it('numbers each state as its name', () => {
    for (const name of states) {
      const { machine } = recorded();
      machine.current = State[name];
      expect(machine.name).toBe(name);
    }
  });

  it('lets a live session move between any two live states and end from any of them', () => {
    const live = states.filter((s) => s !== 'closed');
    for (const from of live) {
      for (const to of states) expect(mayEnter(from, to), `${from} -> ${to}`).toBe(true);
      expect(transitions[from]).not.toContain(from);
    }
  });

  it('lets nothing leave closed', () => {
    for (const to of states) expect(mayEnter('closed', to), `closed -> ${to}`).toBe(to === 'closed');
    expect(transitions.closed).toEqual([]);
  });

  it('logs nothing for a session through its usual life', () => {
    const { machine, lines } = recorded();
    const path = [State.waiting, State.bound, State.plugin, State.bound, State.idle, State.plugin];
    for (const to of [...path, State.waiting, State.idle, State.closed]) machine.enter(to);
    expect(machine.name).toBe('closed');
    expect(lines).toEqual([]);
  });

  it('logs an illegal transition at error level with both states and goes on in the new state', () => {
    const { machine, lines } = recorded();
    machine.enter(State.closed);
    machine.enter(State.bound);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'error',
      msg: 'illegal session state transition',
      from: 'closed',
      to: 'bound',
    });
    expect(machine.name).toBe('bound');
  });
});
