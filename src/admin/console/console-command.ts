// The shape of one admin console command; each command lives in its own file.
import type { ConsoleResult } from './console-result.js';
import type { ConsoleSource } from './console-source.js';

export interface ConsoleCommand {
  /** The words that name it, upper-case: `SHOW POOLS`, `PAUSE`. */
  readonly name: string;
  /** Arguments after the name, for SHOW HELP: `[db]`. */
  readonly args?: string;
  readonly description: string;
  /** Most commands take no arguments; those that do say so with maxArgs. */
  readonly maxArgs?: number;
  run(source: ConsoleSource, args: string[]): ConsoleResult | Promise<ConsoleResult>;
}
