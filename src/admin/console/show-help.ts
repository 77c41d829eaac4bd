// SHOW HELP: the console's commands, one per row.
import type { ConsoleCommand } from './console-command.js';
import { text } from './console-result.js';

/** Filled in by commands.ts, which lists every command including this one. */
export function showHelp(all: () => readonly ConsoleCommand[]): ConsoleCommand {
  return {
    name: 'SHOW HELP',
    description: 'this list',
    run() {
      const rows = all().map((c) => [c.args ? `${c.name} ${c.args}` : c.name, c.description]);
      return { columns: [text('command'), text('description')], rows, tag: 'SHOW' };
    },
  };
}
