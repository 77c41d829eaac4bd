// Every admin console command, and the lookup from a parsed query to the command that runs it.
import { ProxyError } from '../../errors.js';
import type { ConsoleCommand } from './console-command.js';
import type { ParsedCommand } from './parse-command.js';
import { pause } from './pause.js';
import { reload } from './reload.js';
import { reshard } from './reshard.js';
import { resume } from './resume.js';
import { showClients } from './show-clients.js';
import { showConfig } from './show-config.js';
import { showDatabases } from './show-databases.js';
import { showHelp } from './show-help.js';
import { showPools } from './show-pools.js';
import { showReshard } from './show-reshard.js';
import { showServers } from './show-servers.js';
import { showStats } from './show-stats.js';
import { showStreams } from './show-streams.js';

export const consoleCommands: readonly ConsoleCommand[] = [
  showHelp(() => consoleCommands),
  showPools,
  showClients,
  showServers,
  showStats,
  showStreams,
  showReshard,
  showDatabases,
  showConfig,
  reload,
  pause,
  resume,
  reshard,
];

const commandList = () => consoleCommands.map((c) => (c.args ? `${c.name} ${c.args}` : c.name)).join(', ');

/** The command and its arguments; unknown commands and extra arguments are syntax errors (42601). */
export function findCommand(parsed: ParsedCommand): { command: ConsoleCommand; args: string[] } {
  for (const command of consoleCommands) {
    const nameWords = command.name.split(' ');
    if (!nameWords.every((w, i) => parsed.keys[i] === w)) continue;
    const args = parsed.words.slice(nameWords.length);
    if (args.length > (command.maxArgs ?? 0))
      throw new ProxyError(
        'syntaxError',
        `${command.name} takes ${command.maxArgs ? `at most ${command.maxArgs} argument` : 'no arguments'}`,
        `usage: ${command.name}${command.args ? ` ${command.args}` : ''}`,
      );
    return { command, args };
  }
  throw new ProxyError(
    'syntaxError',
    `unrecognized admin console command "${parsed.words.join(' ')}"`,
    `commands: ${commandList()}`,
  );
}
