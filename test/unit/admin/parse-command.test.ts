// Admin console command parsing and lookup: case, semicolons, quoted names, unknown commands.
import { describe, expect, it } from 'vitest';
import { findCommand } from '../../../src/admin/console/commands.js';
import { parseCommands } from '../../../src/admin/console/parse-command.js';
import { ProxyError } from '../../../src/errors.js';

describe('parseCommands', () => {
  it('splits on semicolons and drops empty statements and comments', () => {
    expect(parseCommands(' show pools; ;-- note\nPAUSE "MyDb";').map((c) => c.words)).toEqual([
      ['show', 'pools'],
      ['PAUSE', 'MyDb'],
    ]);
    expect(parseCommands(';  ')).toEqual([]);
  });

  it('keeps the case of arguments and upper-cases keys', () => {
    expect(parseCommands('resume App')[0]).toEqual({ words: ['resume', 'App'], keys: ['RESUME', 'APP'] });
  });
});

describe('findCommand', () => {
  it('finds a command by its words and returns the rest as arguments', () => {
    const { command, args } = findCommand(parseCommands('pause app')[0]);
    expect(command.name).toBe('PAUSE');
    expect(args).toEqual(['app']);
    expect(findCommand(parseCommands('Show Pools')[0]).command.name).toBe('SHOW POOLS');
  });

  it('rejects unknown commands with 42601 and a hint listing the commands', () => {
    try {
      findCommand(parseCommands('SHOW FDS')[0]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProxyError);
      expect((err as ProxyError).sqlstate).toBe('42601');
      expect((err as ProxyError).hint).toContain('SHOW POOLS, SHOW CLIENTS');
    }
  });

  it('rejects arguments a command does not take', () => {
    expect(() => findCommand(parseCommands('SHOW POOLS app')[0])).toThrow(/takes no arguments/);
    expect(() => findCommand(parseCommands('PAUSE a b')[0])).toThrow(/at most 1 argument/);
  });
});
